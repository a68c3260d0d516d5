package dev.qcow2.walk;

/**
 * Which mapping tree a table or cluster belongs to: the active L1 table's, or a snapshot's
 * (qcow2.rst "Snapshots": each snapshot keeps its own L1 table).
 */
public sealed interface Tree {
    Tree ACTIVE = new Active();

    /** "the active state" or "snapshot 'name'". */
    String describe();

    record Active() implements Tree {
        public String describe() { return "the active state"; }
    }

    record Snapshot(String id, String name) implements Tree {
        public String describe() { return "snapshot '" + name + "'"; }
    }
}
