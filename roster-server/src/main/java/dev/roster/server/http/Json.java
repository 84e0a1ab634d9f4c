package dev.roster.server.http;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/**
 * The API's JSON conventions (docs/architecture.md, "The HTTP API's conventions"): snake_case fields, instants as RFC
 * 3339 UTC text, every 64-bit number as a string (JavaScript clients lose precision above 2^53); 32-bit numbers stay
 * numbers. Reading accepts a 64-bit id written either way and refuses unknown fields.
 */
public final class Json {
    /** The shared mapper. */
    public static final ObjectMapper MAPPER = create();

    private Json() {}

    private static ObjectMapper create() {
        SimpleModule longs = new SimpleModule("roster-longs-as-strings");
        longs.addSerializer(Long.class, ToStringSerializer.instance);
        longs.addSerializer(Long.TYPE, ToStringSerializer.instance);
        return JsonMapper.builder()
                .addModule(new JavaTimeModule())
                .addModule(longs)
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
    }
}
