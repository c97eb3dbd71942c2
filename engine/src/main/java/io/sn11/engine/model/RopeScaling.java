package io.sn11.engine.model;

/** Llama-3 style rope frequency scaling ("rope_type": "llama3"). */
public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings) {}
