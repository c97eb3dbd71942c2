package io.sn11.gpunode.judge;

import io.sn11.cluster.scoring.JudgeTally.Side;
import io.sn11.engine.tokenizer.Message;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class OfflineJudgeTest {
    static final String SYSTEM = "You are Mira, a weary innkeeper.";
    static final List<Message> CONTEXT = List.of(Message.user("What brings you to the storm?"));
    // 11 distinct words; 6 of 4+ letters (storm, brings, weary, travellers, every, night), 3 of them in the context
    static final String ORIGINAL = "Ah, the storm brings weary travellers to my inn every night.";

    static JudgeVerdict verdict(String generated) {
        Judgement j = new OfflineJudge().judge(new Comparison("s", SYSTEM, CONTEXT, ORIGINAL, generated));
        Judgement.Valid v = assertInstanceOf(Judgement.Valid.class, j);
        assertEquals(OfflineJudge.NAME, v.judgedBy());
        return v.verdict();
    }

    @Test
    void aRoleBreakingOffTopicReplyLosesEveryCriterion() {
        // generated: role break -> realism 0 (original 1); entertainment 8/8 x 8/20 = 0.4 (original 11/11 x 11/20 = 0.55);
        // coherency 0.5 x 0/4 + 0.5 x 1 = 0.5 (original 0.5 x 3/6 + 0.5 x 1 = 0.75)
        JudgeVerdict v = verdict("As an AI language model, I cannot pretend.");
        assertEquals(List.of(Side.ORIGINAL, Side.ORIGINAL, Side.ORIGINAL), List.of(v.realism(), v.entertainment(), v.coherency()));
        assertEquals("plausible length without role-break markers: generated 0.000, original 1.000 (margin 0.05)",
                v.realismReasoning());
        assertEquals("vocabulary variety x length: generated 0.400, original 0.550 (margin 0.05)", v.entertainmentReasoning());
        assertEquals("grounding in the conversation and trigram variety: generated 0.500, original 0.750 (margin 0.05)",
                v.coherencyReasoning());
    }

    @Test
    void aVariedGroundedReplyWinsEntertainmentAndCoherency() {
        // 17 words, 13 distinct: entertainment 13/17 x 17/20 = 0.65 > 0.55 + 0.05; realism 1 = 1: tie;
        // 8 distinct words of 4+ letters, 5 in the context (storm, brings, weary, innkeeper, mira); 15 distinct trigrams
        // of 15: coherency 0.5 x 5/8 + 0.5 = 0.8125 > 0.75 + 0.05
        JudgeVerdict v = verdict("The storm? It brings weary souls, and the storm brings gold for a weary innkeeper like Mira.");
        assertEquals(List.of(Side.TIE, Side.GENERATED, Side.GENERATED), List.of(v.realism(), v.entertainment(), v.coherency()));
        assertEquals("grounding in the conversation and trigram variety: generated 0.813, original 0.750 (margin 0.05)",
                v.coherencyReasoning());
    }

    @Test
    void repetitionAndEmptinessScoreLow() {
        // "the storm" x 6: 12 words, 2 distinct; 10 trigrams, 2 distinct: coherency 0.5 x 1/1 + 0.5 x 0.2 = 0.6
        JudgeVerdict looping = verdict("the storm ".repeat(6));
        assertEquals(Side.ORIGINAL, looping.entertainment());
        assertEquals(Side.ORIGINAL, looping.coherency());
        assertEquals("grounding in the conversation and trigram variety: generated 0.600, original 0.750 (margin 0.05)",
                looping.coherencyReasoning());
        JudgeVerdict blank = verdict("  ");
        assertEquals(List.of(Side.ORIGINAL, Side.ORIGINAL, Side.ORIGINAL),
                List.of(blank.realism(), blank.entertainment(), blank.coherency()));
    }

    @Test
    void sameInputSameVerdict() {
        String reply = "Gold, friend. The storm brings gold.";
        assertEquals(verdict(reply), verdict(reply));
    }
}
