package dev.roster.redis;

import dev.roster.core.selection.SelectionStore;
import dev.roster.testkit.contract.CooldownPolicyContract;
import dev.roster.testkit.fake.InMemorySelectionStore;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;

/** The cooldown policy on {@link InMemorySelectionStore}: the fake behaves as Redis does. */
class InMemoryCooldownPolicyContractTest extends CooldownPolicyContract {
    private final Map<String, InMemorySelectionStore> stores = new HashMap<>();

    @Override
    protected SelectionStore open(String namespace, InstantSource clock) {
        return stores.computeIfAbsent(namespace, n -> new InMemorySelectionStore(clock));
    }
}
