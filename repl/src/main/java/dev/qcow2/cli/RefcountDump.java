package dev.qcow2.cli;

import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.RefcountBlockCodec;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.mapping.ClusterMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code dump refcount-table} and {@code dump refcounts} (nonzero refcounts per host cluster). */
final class RefcountDump {
    private RefcountDump() { }

    private static long[] table(Qcow2Header h, Qcow2Image img) throws IOException {
        int entries = (int) (h.refcountTableClusters() * h.clusterSize() / 8);
        return ClusterMapper.readTable(img.storage(), h.refcountTableOffset(), entries);
    }

    static List<Object> table(Qcow2Image img) throws IOException {
        List<Object> out = new ArrayList<>();
        long[] t = table(img.header(), img);
        for (int i = 0; i < t.length; i++) {
            if (t[i] == 0) continue;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", (long) i);
            m.put("refblock_offset", t[i] & ~511L);
            if ((t[i] & 511) != 0) m.put("reserved_bits", t[i] & 511);
            out.add(m);
        }
        return out;
    }

    static List<Object> refcounts(Qcow2Image img) throws IOException {
        Qcow2Header h = img.header();
        long perBlock = img.geometry().refblockEntries();
        long[] t = table(h, img);
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < t.length; i++) {
            long block = t[i] & ~511L;
            if (block == 0) continue;
            byte[] data = img.storage().read(block, h.clusterSize());
            for (long j = 0; j < perBlock; j++) {
                long rc = RefcountBlockCodec.get(data, h.refcountOrder(), j);
                if (rc == 0) continue;
                long cluster = i * perBlock + j;
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("cluster", cluster);
                m.put("host_offset", cluster * h.clusterSize());
                m.put("refcount", rc);
                out.add(m);
            }
        }
        return out;
    }
}
