package io.sn11.engine.backend;

/**
 * The k largest values offered so far with their ids, largest first. A value equal to one already kept goes after
 * it, so offering ids in increasing order keeps the lower id first among ties (the scoring rule).
 */
final class TopK {
    final int[] ids;
    private final float[] values;
    private int size;

    TopK(int k) {
        ids = new int[k];
        values = new float[k];
    }

    /** The smallest value kept; once k values were offered, only a larger one changes the list. */
    float smallest() { return values[values.length - 1]; }

    void offer(float x, int id) {
        int k = values.length;
        if (size == k && !(x > values[k - 1])) return;
        int pos = size == k ? k - 1 : size++;
        while (pos > 0 && x > values[pos - 1]) {
            values[pos] = values[pos - 1];
            ids[pos] = ids[pos - 1];
            pos--;
        }
        values[pos] = x;
        ids[pos] = id;
    }
}
