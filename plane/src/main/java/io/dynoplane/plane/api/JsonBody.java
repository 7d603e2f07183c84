package io.dynoplane.plane.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/** A request's JSON object body, read field by field so that every error names the field. */
final class JsonBody {
    static final ObjectMapper JSON = new ObjectMapper();

    private final ObjectNode node;

    private JsonBody(ObjectNode node) { this.node = node; }

    /** Parses {@code body}; fields outside {@code allowed} are an error (a typo should not pass silently). */
    static JsonBody parse(byte[] body, Set<String> allowed) {
        JsonNode node;
        try {
            node = body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (IOException e) {
            throw ApiException.badRequest("the request body is not JSON: " + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()));
        }
        if (!(node instanceof ObjectNode object)) throw ApiException.badRequest("the request body must be a JSON object");
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) throw ApiException.invalid("unknown field '" + name + "' (expected " + String.join(", ", new java.util.TreeSet<>(allowed)) + ")");
        }
        return new JsonBody(object);
    }

    String requiredString(String field) {
        String value = optionalString(field);
        if (value == null || value.isEmpty()) throw ApiException.invalid("missing field '" + field + "'");
        return value;
    }

    String optionalString(String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) return null;
        if (!value.isTextual()) throw ApiException.invalid("field '" + field + "' must be a string, got " + value);
        return value.asText();
    }

    boolean optionalBoolean(String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) return false;
        if (!value.isBoolean()) throw ApiException.invalid("field '" + field + "' must be true or false, got " + value);
        return value.asBoolean();
    }

    JsonNode required(String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) throw ApiException.invalid("missing field '" + field + "'");
        return value;
    }

    ObjectNode object() { return node; }

    /** A flat object of string (or null) values, as config vars are. */
    static Map<String, String> stringMap(ObjectNode object) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        object.properties().forEach(e -> {
            JsonNode v = e.getValue();
            if (!v.isNull() && !v.isTextual()) throw ApiException.invalid("config var '" + e.getKey() + "' must be a string or null, got " + v);
            out.put(e.getKey(), v.isNull() ? null : v.asText());
        });
        return out;
    }
}
