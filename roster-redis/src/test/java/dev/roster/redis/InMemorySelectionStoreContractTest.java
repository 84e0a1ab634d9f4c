package dev.roster.redis;

import dev.roster.core.selection.SelectionStore;
import dev.roster.testkit.contract.SelectionStoreContract;
import dev.roster.testkit.fake.InMemorySelectionStore;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;

/** The selection store contract on {@link InMemorySelectionStore}. */
class InMemorySelectionStoreContractTest extends SelectionStoreContract {
    private final Map<String, InMemorySelectionStore> stores = new HashMap<>();

    @Override
    protected SelectionStore open(String namespace, InstantSource clock) {
        // Clients of one namespace share the store, as clients of one Redis share its data; closing one
        // client (a crash) must not lose the shared state.
        InMemorySelectionStore shared = stores.computeIfAbsent(namespace, n -> new InMemorySelectionStore(clock));
        return shared;
    }
}
