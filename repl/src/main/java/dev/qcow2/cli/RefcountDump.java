package dev.qcow2.cli;

import dev.qcow2.format.ReftableEntry;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.refcount.RefcountReader;
import dev.qcow2.refcount.RefcountUnreadableException;
import dev.qcow2.refcount.Reftable;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code dump refcount-table} and {@code dump refcounts} (nonzero refcounts per host cluster),
 * through the core's one refcount reader. A refcount block that cannot be read (unaligned
 * offset: QEMU's -EIO) is listed as one {@code unreadable} row with its reftable index instead
 * of its refcounts, and the dump goes on.
 */
final class RefcountDump {
    private RefcountDump() { }

    static List<Object> table(Qcow2Image img) throws IOException {
        List<Object> out = new ArrayList<>();
        Reftable t = Reftable.read(img.storage(), img.header(), Reftable.Policy.QEMU);
        for (int i = 0; i < t.size(); i++) {
            ReftableEntry e = t.entry(i);
            if (e.raw() == 0) continue;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", (long) i);
            m.put("refblock_offset", e.refblockOffset());
            if (e.reservedBits() != 0) m.put("reserved_bits", e.reservedBits());
            out.add(m);
        }
        return out;
    }

    static List<Object> refcounts(Qcow2Image img) throws IOException {
        RefcountReader reader = RefcountReader.open(img.storage(), img.header());
        Reftable t = reader.reftable();
        long perBlock = reader.entriesPerBlock();
        long clusterSize = img.header().clusterSize();
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < t.size(); i++) {
            long block;
            try {
                block = t.refblockOffset(i);
            } catch (RefcountUnreadableException u) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("reftable_index", (long) i);
                m.put("refblock_offset", u.damage().refblockOffset());
                m.put("unreadable", u.damage().describe());
                out.add(m);
                continue;
            }
            if (block == 0) continue;
            for (long j = 0; j < perBlock; j++) {
                long cluster = i * perBlock + j;
                long rc = reader.get(cluster);
                if (rc == 0) continue;
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("cluster", cluster);
                m.put("host_offset", cluster * clusterSize);
                m.put("refcount", rc);
                out.add(m);
            }
        }
        return out;
    }
}
