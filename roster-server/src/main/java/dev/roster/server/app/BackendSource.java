package dev.roster.server.app;

import org.jspecify.annotations.Nullable;

/** Where the HTTP layer gets the running backend: {@code null} while stores are still unreachable. */
public interface BackendSource {
    /** The started backend, or {@code null} while it could not be started yet. */
    @Nullable
    Backend backend();

    /** Readiness, with the reason when not ready (also while no backend exists). */
    Backend.Readiness readiness();

    /** A source whose backend is {@code backend} from the start (tests, benchmarks, embedding). */
    static BackendSource of(Backend backend) {
        return new BackendSource() {
            @Override
            public Backend backend() {
                return backend;
            }

            @Override
            public Backend.Readiness readiness() {
                return backend.readiness();
            }
        };
    }
}
