package io.dynoplane.plane.store;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.util.Map;

/**
 * One release of an app: version 1..N, the slug (the store's own copy of the deployed folder, or
 * null when config changed before any deploy), the config vars at that moment, what made it
 * ({@code Deploy}, {@code Set FOO config vars}) and whether it went out.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Release(String app, int version, String slug, Map<String, String> config, String description,
                      Status status, String createdAt) {
    public Release {
        config = Map.copyOf(config);
    }

    /** Serialised lower-case, as Heroku's API does. */
    public enum Status {
        @com.fasterxml.jackson.annotation.JsonProperty("pending") PENDING,
        @com.fasterxml.jackson.annotation.JsonProperty("succeeded") SUCCEEDED,
        @com.fasterxml.jackson.annotation.JsonProperty("failed") FAILED
    }

    Release withStatus(Status next) {
        return new Release(app, version, slug, config, description, next, createdAt);
    }
}
