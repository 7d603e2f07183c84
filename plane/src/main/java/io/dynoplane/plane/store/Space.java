package io.dynoplane.plane.store;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.util.List;

/** A private space: {@code id} (1..) is what the kernel's maps know it by; trusted CIDRs gate its router. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Space(String name, int id, List<String> trustedCidrs, String createdAt) {
    public Space {
        trustedCidrs = List.copyOf(trustedCidrs);
    }
}
