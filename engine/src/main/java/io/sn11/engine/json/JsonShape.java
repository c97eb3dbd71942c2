package io.sn11.engine.json;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * The JSON documents constrained decoding can produce, described once: {@link #toJsonSchema()} renders the same
 * description as a JSON Schema for whoever validates or asks an outside service for it, and
 * {@link JsonAutomaton#compile} turns it into the automaton that generation follows.
 *
 * <p>Three shapes, the ones a judge's verdict needs: objects with fixed, required keys (written in the declared order;
 * no other key), strings from a fixed set, and free strings of at most a number of characters.
 */
public sealed interface JsonShape {
    /** An object with exactly these properties, in this order. */
    record ObjectShape(List<Property> properties) implements JsonShape {
        public ObjectShape {
            properties = List.copyOf(properties);
            var names = new HashSet<String>();
            for (Property p : properties) {
                if (!names.add(p.name())) throw new IllegalArgumentException("duplicate property " + p.name());
            }
        }
    }

    record Property(String name, JsonShape value) {
        public Property {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }
    }

    /** One of these strings. */
    record EnumShape(List<String> values) implements JsonShape {
        public EnumShape {
            values = List.copyOf(values);
            if (values.isEmpty()) throw new IllegalArgumentException("an enum needs at least one value");
            if (new HashSet<>(values).size() != values.size()) throw new IllegalArgumentException("duplicate enum value");
        }
    }

    /**
     * Any string of at most {@code maxLength} characters (Unicode code points, as JSON Schema counts them; an escape
     * such as {@code \n} or a {@code \}{@code u} escape is the one character it stands for).
     */
    record StringShape(int maxLength) implements JsonShape {
        public StringShape {
            if (maxLength < 0) throw new IllegalArgumentException("max length must be >= 0, got " + maxLength);
        }
    }

    /** This shape as a JSON Schema: every property required, no other property, enums and maxLength as given. */
    default ObjectNode toJsonSchema() {
        ObjectNode schema = JsonNodeFactory.instance.objectNode();
        switch (this) {
            case ObjectShape o -> {
                schema.put("type", "object");
                ObjectNode props = schema.putObject("properties");
                ArrayNode required = schema.putArray("required");
                for (Property p : o.properties()) {
                    props.set(p.name(), p.value().toJsonSchema());
                    required.add(p.name());
                }
                schema.put("additionalProperties", false);
            }
            case EnumShape e -> {
                schema.put("type", "string");
                ArrayNode values = schema.putArray("enum");
                e.values().forEach(values::add);
            }
            case StringShape s -> schema.put("type", "string").put("maxLength", s.maxLength());
        }
        return schema;
    }
}
