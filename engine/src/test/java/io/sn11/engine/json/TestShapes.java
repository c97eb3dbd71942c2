package io.sn11.engine.json;

import io.sn11.engine.json.JsonShape.EnumShape;
import io.sn11.engine.json.JsonShape.ObjectShape;
import io.sn11.engine.json.JsonShape.Property;
import io.sn11.engine.json.JsonShape.StringShape;

import java.util.ArrayList;
import java.util.List;

/** Shapes for tests. */
public final class TestShapes {
    private TestShapes() {}

    /** The judge's verdict (gpu-node's JudgePrompt.VERDICT): per criterion, a bounded reasoning and the winner. */
    public static JsonShape verdict(int maxReasoning) {
        List<Property> properties = new ArrayList<>();
        for (String c : List.of("realism", "entertainment", "coherency")) {
            properties.add(new Property(c + "_reasoning", new StringShape(maxReasoning)));
            properties.add(new Property(c + "_win", new EnumShape(List.of("original", "generated", "tie"))));
        }
        return new ObjectShape(properties);
    }
}
