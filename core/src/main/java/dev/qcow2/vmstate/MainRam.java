package dev.qcow2.vmstate;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which RAM blocks of a stream make the guest's main RAM, in guest-physical order.
 * <ul>
 * <li>{@code pc.ram}: QEMU's default (and libvirt's {@code memory-backend=pc.ram}).</li>
 * <li>NUMA guests: each node's memory backend is its own RAM block named after the backend
 *     ({@code -numa node,memdev=ram-node0}; libvirt names them {@code ram-node<N>}), and the
 *     machine maps the nodes one after the other in node order (hw/core/numa.c
 *     numa_complete_configuration: the memdevs become consecutive subregions of the machine's
 *     RAM container). The block list does not say which node a block is (QEMU sorts it by size),
 *     so blocks that share a name prefix and end in a number are taken as nodes in that number's
 *     order; any other order can be given explicitly ({@code --block=a,b}).</li>
 * <li>Otherwise the largest block.</li>
 * </ul>
 */
final class MainRam {
    private MainRam() { }

    private static final Pattern NODE = Pattern.compile("([A-Za-z][A-Za-z0-9_.-]*?)(\\d+)");

    /** The main RAM's blocks in guest-physical order (empty when the stream has no blocks). */
    static List<String> blocks(Map<String, Long> blocks) {
        if (blocks.containsKey("pc.ram")) return List.of("pc.ram");
        List<String> nodes = numaNodes(blocks);
        if (!nodes.isEmpty()) return nodes;
        return blocks.entrySet().stream().max(Map.Entry.comparingByValue()).map(e -> List.of(e.getKey())).orElse(List.of());
    }

    /**
     * Blocks named PREFIX + N sharing one prefix (at least two, numbered 0, 1, … without gaps),
     * which together are the largest group of such names; empty when there is none.
     */
    private static List<String> numaNodes(Map<String, Long> blocks) {
        Map<String, List<String>> byPrefix = new java.util.TreeMap<>();
        for (String name : blocks.keySet()) {
            Matcher m = NODE.matcher(name);
            if (m.matches()) byPrefix.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(name);
        }
        List<String> best = List.of();
        long bestSize = -1;
        for (List<String> group : byPrefix.values()) {
            if (group.size() < 2) continue;
            group.sort(Comparator.comparingLong(MainRam::number));
            boolean consecutive = true;
            for (int i = 0; i < group.size(); i++) consecutive &= number(group.get(i)) == i;
            if (!consecutive) continue;
            long size = group.stream().mapToLong(blocks::get).sum();
            if (size > bestSize) {
                best = group;
                bestSize = size;
            }
        }
        return best;
    }

    private static long number(String name) {
        Matcher m = NODE.matcher(name);
        if (!m.matches()) return -1;
        String digits = m.group(2);
        return digits.length() > 9 ? Long.MAX_VALUE : Long.parseLong(digits);
    }
}
