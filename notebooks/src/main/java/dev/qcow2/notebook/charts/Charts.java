package dev.qcow2.notebook.charts;

import dev.qcow2.dsl.DslShell;
import dev.qcow2.dsl.Row;
import dev.qcow2.dsl.Session;
import dev.qcow2.dsl.Table;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.notebook.Qcow2Kernel;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The charts of allocation state, one call each, for notebooks (Java cells and {@code %%dsl}
 * cells, where this class is bound as {@code charts}): {@code Charts.hostMap("disk.qcow2")}.
 * Maps are images drawn here (no charting library draws cluster maps); the rest are XChart
 * charts. Every call opens the image read-only and closes it again. {@code path} is a String,
 * Path or File, or a DSL {@link Session} / {@link DslShell} (its open image). Without an
 * argument ({@code Charts.hostMap()}, in {@code %%dsl} cells {@code charts.hostMap()}) a chart
 * shows the image open in the notebook's {@code %%dsl} session.
 */
public final class Charts {
    /** The image property that holds a map's title: {@code Charts.hostMap(disk).getProperty(Charts.TITLE)}. */
    public static final String TITLE = "title";
    private static final int WIDTH = 800, HEIGHT = 380;

    private Charts() { }

    /** The host file, cluster by cluster: header, L1/L2, refcount structures, snapshot table, data, compressed, leaked, free, past EOF. */
    /** {@link #hostMap(Object)} of the image open in the notebook's {@code %%dsl} session. */
    public static BufferedImage hostMap() { return hostMap(openImage()); }

    public static BufferedImage hostMap(Object path) {
        HostClusters h = hostClusters(path);
        List<MapPainter.Kind> kinds = new ArrayList<>();
        for (ClusterKind k : ClusterKind.values()) {
            kinds.add(new MapPainter.Kind(k.label(), k.color(), k == ClusterKind.LEAKED || k == ClusterKind.PAST_EOF));
        }
        long[] counts = h.counts().values().stream().mapToLong(Long::longValue).toArray();
        return MapPainter.paint("host clusters of " + name(path), h.ordinals(), kinds, counts, h.clusterSize());
    }

    /** The guest disk, cluster by cluster: data here, compressed, zero, from a backing layer, unallocated. */
    /** {@link #guestMap(Object)} of the image open in the notebook's {@code %%dsl} session. */
    public static BufferedImage guestMap() { return guestMap(openImage()); }

    public static BufferedImage guestMap(Object path) {
        GuestClusters g = withImage(path, OpenOptions.permissive(), GuestClusters::of);
        List<MapPainter.Kind> kinds = new ArrayList<>();
        for (GuestKind k : GuestKind.values()) kinds.add(new MapPainter.Kind(k.label(), k.color(), false));
        long[] counts = g.counts().values().stream().mapToLong(Long::longValue).toArray();
        return MapPainter.paint("guest clusters of " + name(path), g.ordinals(), kinds, counts, g.clusterSize());
    }

    /** {@link #hostClusters(Object)} of the image open in the notebook's {@code %%dsl} session. */
    public static HostClusters hostClusters() { return hostClusters(openImage()); }

    public static HostClusters hostClusters(Object path) {
        return withImage(path, OpenOptions.forChecking(), HostClusters::of);
    }

    /** How many host clusters have each refcount (clusters with refcount 0 and no references left out). */
    /** {@link #refcountHistogram(Object)} of the image open in the notebook's {@code %%dsl} session. */
    public static CategoryChart refcountHistogram() { return refcountHistogram(openImage()); }

    public static CategoryChart refcountHistogram(Object path) {
        HostClusters h = hostClusters(path);
        Map<Long, Long> histogram = new TreeMap<>();
        for (int c = 0; c < h.size(); c++) {
            if (h.refcount(c) != 0 || h.references(c) != 0) histogram.merge(h.refcount(c), 1L, Long::sum);
        }
        if (histogram.isEmpty()) histogram.put(0L, 0L);
        CategoryChart chart = bars("refcount histogram of " + name(path), "refcount", "host clusters");
        chart.getStyler().setLegendVisible(false);
        chart.addSeries("clusters", histogram.keySet().stream().map(k -> k < 0 ? "unreadable" : k.toString()).toList(),
                new ArrayList<Number>(histogram.values()));
        return chart;
    }

    /**
     * Leaks and refcount mismatches along the file: the file cut into at most 48 equal stretches,
     * counting in each the clusters whose refcount is higher than their references (leaks: what
     * repair leaks fixes) and those whose refcount is lower or unreadable (corruptions: repair all).
     */
    /** {@link #leaks(Object)} of the image open in the notebook's {@code %%dsl} session. */
    public static CategoryChart leaks() { return leaks(openImage()); }

    public static CategoryChart leaks(Object path) {
        HostClusters h = hostClusters(path);
        int bins = Math.max(1, Math.min(48, h.size()));
        int per = (h.size() + bins - 1) / bins;
        bins = (h.size() + per - 1) / per;
        long[] high = new long[bins], low = new long[bins];
        for (int c = 0; c < h.size(); c++) {
            long rc = h.refcount(c), refs = h.references(c);
            if (rc > refs) high[c / per]++;
            else if (rc < refs) low[c / per]++;
        }
        List<String> labels = new ArrayList<>();
        for (int b = 0; b < bins; b++) labels.add(String.format("0x%x", (long) b * per * h.clusterSize()));
        CategoryChart chart = bars("leaks and refcount mismatches over " + name(path)
                + " (" + per + " cluster" + (per == 1 ? "" : "s") + " per bar)", "host offset", "clusters");
        chart.getStyler().setStacked(true);
        chart.getStyler().setXAxisLabelRotation(90);
        chart.getStyler().setSeriesColors(new Color[] {new Color(0xef4444), new Color(0x7f1d1d)});
        chart.addSeries("refcount > references (leak)", labels, asList(high));
        chart.addSeries("refcount < references (corruption)", labels, asList(low));
        return chart;
    }

    /**
     * One persistent bitmap over the guest: a square per granule (or per run of granules on a
     * large disk), dirty where a bit is set. Drawn from the bitmap as stored in the file; an
     * in-use (inconsistent) bitmap has no bits to draw and is refused with one line.
     */
    /** {@link #bitmapMap(Object, String)} of the image open in the notebook's {@code %%dsl} session. */
    public static BufferedImage bitmapMap(String bitmap) { return bitmapMap(openImage(), bitmap); }

    public static BufferedImage bitmapMap(Object path, String bitmap) {
        record Bits(List<long[]> ranges, long granularity, long size) { }
        Bits bits = withImage(path, OpenOptions.defaults(), img -> {
            for (var e : img.bitmaps()) {
                if (!e.name().equals(bitmap)) continue;
                if (e.inUse()) throw new IllegalArgumentException("bitmap '" + bitmap + "' is in use (inconsistent): its bits are unknown");
                return new Bits(img.bitmap(e).dirtyRanges(), e.granularity(), img.size());
            }
            throw new IllegalArgumentException("no bitmap '" + bitmap + "' in " + name(path));
        });
        // one unit per granule, or per run of granules so that a map never needs more than 2^20 units
        long granules = Math.max(1, (bits.size() + bits.granularity() - 1) / bits.granularity());
        long per = Math.max(1, (granules + (1 << 20) - 1) >> 20);
        long unit = bits.granularity() * per;
        byte[] ordinals = new byte[(int) ((bits.size() + unit - 1) / unit)];
        for (long[] r : bits.ranges()) {
            for (long u = r[0] / unit; u < Math.min(ordinals.length, (r[1] + unit - 1) / unit); u++) ordinals[(int) u] = 1;
        }
        long dirty = 0;
        for (byte o : ordinals) dirty += o;
        List<MapPainter.Kind> kinds = List.of(new MapPainter.Kind("clean", new Color(0xe5e7eb), false),
                new MapPainter.Kind("dirty", new Color(0xdc2626), true));
        return MapPainter.paint("bitmap '" + bitmap + "' of " + name(path), ordinals, kinds,
                new long[] {ordinals.length - dirty, dirty}, (int) Math.min(Integer.MAX_VALUE, unit));
    }

    /** qemu-img check's fragmentation figure and the runs of host-contiguous data of the active state. */
    /** {@link #fragmentationOf(Object)} of the image open in the notebook's {@code %%dsl} session. */
    public static Fragmentation fragmentationOf() { return fragmentationOf(openImage()); }

    public static Fragmentation fragmentationOf(Object path) {
        return withImage(path, OpenOptions.defaults(), Fragmentation::of);
    }

    /**
     * How contiguous guest data is on the host: data clusters by the length of the host-contiguous
     * run they belong to (long runs = sequential reads), compressed clusters apart; the title
     * carries qemu-img check's "% fragmented".
     */
    /** {@link #fragmentation(Object)} of the image open in the notebook's {@code %%dsl} session. */
    public static CategoryChart fragmentation() { return fragmentation(openImage()); }

    public static CategoryChart fragmentation(Object path) {
        Fragmentation f = fragmentationOf(path);
        Map<String, Long> bars = new LinkedHashMap<>(f.clustersByRunLength());
        if (f.compressed() > 0) bars.put("compressed", f.compressed());
        if (bars.isEmpty()) bars.put("no data", 0L);
        CategoryChart chart = bars(String.format("fragmentation of %s: %.2f%% fragmented (%d of %d allocated clusters)",
                name(path), f.percent(), f.fragmented(), f.allocated()), "run of host-contiguous clusters (length)", "guest clusters");
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setSeriesColors(new Color[] {new Color(0x0ea5e9)});
        chart.addSeries("clusters", new ArrayList<>(bars.keySet()), new ArrayList<Number>(bars.values()));
        return chart;
    }

    /**
     * Clusters that read differently from one state to the next along the snapshot timeline
     * (oldest snapshot first, the active state last), by kind of change (DSL snapshot.diff).
     */
    /** {@link #snapshotDivergence(Object)} of the image open in the notebook's {@code %%dsl} session. */
    public static CategoryChart snapshotDivergence() { return snapshotDivergence(openImage()); }

    public static CategoryChart snapshotDivergence(Object path) {
        try (DslShell shell = new DslShell()) {
            shell.getBinding().setVariable("imagePath", file(path).toString());
            shell.evaluate("open imagePath");
            List<String> names = new ArrayList<>();
            for (Object n : (List<?>) shell.evaluate("snapshot.names")) names.add(String.valueOf(n));
            if (names.isEmpty()) throw new IllegalArgumentException(name(path) + ": has no snapshots to compare");
            String[] changes = {"changed", "added", "discarded", "zeroed"};
            Map<String, long[]> series = new LinkedHashMap<>();
            for (String c : changes) series.put(c, new long[names.size()]);
            List<String> labels = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                String from = names.get(i), to = i + 1 < names.size() ? names.get(i + 1) : null;
                shell.getBinding().setVariable("from", from);
                shell.getBinding().setVariable("to", to);
                Table diff = (Table) shell.evaluate(to == null ? "snapshot.diff from" : "snapshot.diff from, to");
                for (Row r : diff) series.get(String.valueOf(r.get("change")))[i]++;
                labels.add(from + " → " + (to == null ? "active" : to));
            }
            CategoryChart chart = bars("snapshot divergence of " + name(path), "step", "guest clusters that differ");
            chart.getStyler().setStacked(true);
            chart.getStyler().setSeriesColors(new Color[] {new Color(0x3b82f6), new Color(0x22c55e), new Color(0x9ca3af), new Color(0xfbbf24)});
            for (String c : changes) chart.addSeries(c, labels, asList(series.get(c)));
            return chart;
        }
    }

    private static CategoryChart bars(String title, String x, String y) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(x).yAxisTitle(y).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setOverlapped(false);
        chart.getStyler().setYAxisDecimalPattern("#,###");
        return chart;
    }

    private static List<Number> asList(long[] values) {
        return new ArrayList<>(Arrays.stream(values).boxed().toList());
    }

    interface ImageFunction<T> { T apply(Qcow2Image img) throws IOException; }

    private static <T> T withImage(Object path, OpenOptions options, ImageFunction<T> f) {
        try (Qcow2Image img = Qcow2Image.open(file(path), options)) {
            return f.apply(img);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /**
     * The image open in the notebook's {@code %%dsl} session: what a chart without a path shows.
     * No kernel (JShell, a test): a one-line error saying to pass the image.
     */
    public static Path openImage() {
        Qcow2Kernel kernel = Qcow2Kernel.current();
        if (kernel == null) {
            throw new IllegalStateException("charts without a path show the notebook's open image, and there is no notebook here: pass the image, e.g. Charts.hostMap(\"disk.qcow2\")");
        }
        return kernel.dslShell().getSession().requirePath();
    }

    static Path file(Object path) {
        if (path instanceof Path p) return p;
        if (path instanceof Session s) return s.requirePath();
        if (path instanceof DslShell d) return d.getSession().requirePath();
        if (path instanceof File f) return f.toPath();
        if (path instanceof CharSequence s) return Path.of(s.toString());
        throw new IllegalArgumentException("charts take a file name (String, Path or File) or a DSL session, not " + (path == null ? "null" : path.getClass().getSimpleName()));
    }

    private static String name(Object path) { return file(path).getFileName().toString(); }
}
