/**
 * The Redis implementations of the core's projection and selection-store ports, through Lettuce.
 * Lettuce is required transitively: {@link dev.roster.redis.RedisConnector} takes and hands out
 * Lettuce clients and commands.
 */
module roster.redis {
    requires transitive roster.core;
    requires transitive lettuce.core;
    requires org.slf4j;

    exports dev.roster.redis;
}
