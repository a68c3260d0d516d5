package dev.qcow2.dsl

import groovy.transform.CompileStatic

/** The table level {@code walk} visits: {@code walk l1}, {@code walk l2}. */
@CompileStatic
enum Level {
    L1, L2

    String toString() { name().toLowerCase() }
}
