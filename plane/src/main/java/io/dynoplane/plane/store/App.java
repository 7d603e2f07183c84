package io.dynoplane.plane.store;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * An app. {@code space} is the private space's name, or null for the Common Runtime; an
 * {@code internal} app takes traffic only from its space. {@code createdAt} is RFC 3339.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record App(String name, String space, boolean internal, String createdAt) {
}
