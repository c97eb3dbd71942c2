package io.sn11.cluster;

/** Marker for every message, event and snapshot that crosses a node boundary or reaches the journal: bound to Jackson CBOR. */
public interface CborSerializable {}
