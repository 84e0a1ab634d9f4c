package dev.roster.redis;

import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;

/** Lettuce event loops shared by every test connection in this JVM (creating them per client is slow). */
final class TestRedis {
    static final ClientResources RESOURCES = DefaultClientResources.create();

    private TestRedis() {}
}
