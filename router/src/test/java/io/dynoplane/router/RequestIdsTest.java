package io.dynoplane.router;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class RequestIdsTest {

    @Test
    void acceptsTwentyToTwoHundredAllowedCharacters() {
        assertThat(RequestIds.isValid("a".repeat(20))).isTrue();
        assertThat(RequestIds.isValid("a".repeat(200))).isTrue();
        assertThat(RequestIds.isValid("AZaz09+/=-AZaz09+/=-")).isTrue();
        assertThat(RequestIds.isValid(UUID.randomUUID().toString())).isTrue();
    }

    @Test
    void rejectsWrongLengthOrCharacters() {
        assertThat(RequestIds.isValid(null)).isFalse();
        assertThat(RequestIds.isValid("")).isFalse();
        assertThat(RequestIds.isValid("a".repeat(19))).isFalse();
        assertThat(RequestIds.isValid("a".repeat(201))).isFalse();
        for (String bad : new String[] {"_", " ", ".", ":", "é", "\t", "\""}) {
            assertThat(RequestIds.isValid("a".repeat(20) + bad)).as("'%s'", bad).isFalse();
        }
    }

    @Test
    void keepsAValidIdAndReplacesAnInvalidOne() {
        String valid = "abcdefghij0123456789";
        assertThat(RequestIds.resolve(valid)).isSameAs(valid);
        assertThat(RequestIds.resolve("short")).isNotEqualTo("short").hasSize(36);
        assertThat(RequestIds.resolve(null)).hasSize(36);
    }

    @Test
    void newIdsAreVersion4UuidsAndValidThemselves() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            String id = RequestIds.newId();
            UUID uuid = UUID.fromString(id);
            assertThat(uuid.version()).isEqualTo(4);
            assertThat(uuid.variant()).isEqualTo(2);
            assertThat(RequestIds.isValid(id)).isTrue();
            ids.add(id);
        }
        assertThat(ids).hasSize(1000);
    }
}
