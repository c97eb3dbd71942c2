package io.sn11.engine.data;

import io.sn11.engine.tokenizer.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** A small roleplay dataset made from templates and a seed: no download, same seed same bytes. */
public final class SyntheticDataset {
    private SyntheticDataset() {}

    private static final String[] NAMES = {"Mira", "Thorne", "Captain Vex", "Old Bram", "Lady Ysolde", "Pip", "Dr. Kael",
            "Seraphine", "Grub", "Juno"};
    private static final String[] ROLES = {"a weary innkeeper", "a sky pirate", "a court wizard", "a retired detective",
            "a goblin merchant", "a starship engineer", "a ghost in a lighthouse", "a wandering bard"};
    private static final String[] TRAITS = {"sarcastic", "kind", "secretive", "boastful", "nervous", "cheerful", "grim"};
    private static final String[] USER_LINES = {"What brings you to this place?", "Can you help me find the old map?",
            "I heard a strange noise last night. Did you hear it too?", "Tell me about the storm that is coming.",
            "Why do you keep looking at the door?", "How much for a room and a warm meal?",
            "Have you ever seen the sea at midnight?", "Who told you my name?"};
    private static final String[] OPENERS = {"Ah,", "Well,", "Hmm,", "Listen,", "Oh,", "Ha!"};
    private static final String[] MIDDLES = {"the road here is longer than it looks", "nobody comes this way without a reason",
            "I have seen that look before", "the lanterns flicker when trouble is near", "you are braver than most",
            "the old map was lost in the fire", "the sea keeps its secrets well", "gold talks louder than words here"};
    private static final String[] ENDINGS = {"Sit down and I will tell you more.", "But that is a story for another night.",
            "Keep your voice low.", "Do not trust the man in the grey coat.", "Pour yourself a drink first.",
            "And that is all I will say for now."};

    public static Dataset generate(long seed, int count) {
        Random r = new Random(seed);
        List<Conversation> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String name = pick(r, NAMES), role = pick(r, ROLES), trait = pick(r, TRAITS);
            List<Message> m = new ArrayList<>();
            m.add(Message.system("You are " + name + ", " + role + ". You are " + trait + ". Stay in character."));
            int turns = 1 + r.nextInt(3);
            for (int t = 0; t < turns; t++) {
                m.add(Message.user(pick(r, USER_LINES)));
                m.add(Message.assistant(pick(r, OPENERS) + " " + pick(r, MIDDLES) + ". " + pick(r, ENDINGS)));
            }
            out.add(new Conversation(String.format("synthetic-%d-%04d", seed, i), name, m));
        }
        byte[] bytes = new Dataset(out, "").toJsonl();
        return new Dataset(List.copyOf(out), Dataset.versionOf(bytes));
    }

    private static String pick(Random r, String[] a) { return a[r.nextInt(a.length)]; }
}
