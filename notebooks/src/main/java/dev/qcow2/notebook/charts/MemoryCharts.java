package dev.qcow2.notebook.charts;

import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.vmstate.MemoryLayout;
import dev.qcow2.vmstate.MemoryOptions;
import dev.qcow2.vmstate.MigrationStream;
import dev.qcow2.vmstate.RamRange;
import dev.qcow2.vmstate.VmState;
import dev.qcow2.vmstate.VmStateSummary;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Charts of the guest memory a savevm snapshot stores ({@code qcow2 vmstate}): which parts of the
 * RAM hold data and which are zero pages. The pages are counted as the stream passes (nothing of
 * the RAM is held).
 */
public final class MemoryCharts {
    static final int REGIONS = 32;

    private MemoryCharts() { }

    /**
     * The main RAM cut into at most 32 equal regions (labelled by guest-physical address): in each,
     * the pages sent with data and the zero pages (sent as one fill byte, or never sent).
     */
    public static CategoryChart ramPages(Object path, String snapshot) {
        return withState(path, snapshot, state -> {
            MemoryLayout layout = state.layout(MemoryOptions.defaults());
            int pageSize = state.summary().pageSize();
            long regionBytes = Math.max(pageSize, roundUp((layout.blockSize() + REGIONS - 1) / REGIONS, pageSize));
            int regions = (int) ((layout.blockSize() + regionBytes - 1) / regionBytes);
            long[] data = new long[regions];
            MigrationStream.read(state.bytes(), new MigrationStream.RamSink() {
                @Override public void page(String block, long offset, byte[] page, long at) {
                    if (block.equals(layout.block())) data[(int) (offset / regionBytes)]++;
                }
                @Override public void zero(String block, long offset, int fill, long at) { }
            });
            List<String> labels = new ArrayList<>();
            List<Number> withData = new ArrayList<>(), zero = new ArrayList<>();
            for (int r = 0; r < regions; r++) {
                long start = (long) r * regionBytes;
                long pages = (Math.min(layout.blockSize(), start + regionBytes) - start) / pageSize;
                labels.add(mib(guestPhysical(layout, start)));
                withData.add(data[r]);
                zero.add(pages - data[r]);
            }
            CategoryChart chart = bars("RAM pages of " + layout.block() + " in snapshot '" + snapshot + "'",
                    "guest-physical address (MiB)", "pages (" + pageSize / 1024 + " KiB)");
            chart.getStyler().setStacked(true);
            chart.addSeries("with data", labels, withData).setFillColor(new Color(0xd6, 0x27, 0x28));
            chart.addSeries("zero", labels, zero).setFillColor(new Color(0xc7, 0xc7, 0xc7));
            return chart;
        });
    }

    /** Every RAM block of the snapshot: its share of pages sent with data and of zero pages (blocks differ in size by 10^4). */
    public static CategoryChart ramBlocks(Object path, String snapshot) {
        return withState(path, snapshot, state -> {
            VmStateSummary s = state.summary();
            List<String> names = new ArrayList<>();
            List<Number> withData = new ArrayList<>(), zero = new ArrayList<>();
            for (VmStateSummary.RamBlock b : s.ramBlocks()) {
                long pages = Math.max(1, b.usedLength() / s.pageSize());
                names.add(b.name() + " (" + pages + ")");
                withData.add(100.0 * b.dataPages() / pages);
                zero.add(100.0 - 100.0 * b.dataPages() / pages);
            }
            CategoryChart chart = bars("RAM blocks of snapshot '" + snapshot + "' (pages)", "block", "% of its pages");
            chart.getStyler().setStacked(true);
            chart.getStyler().setYAxisMax(100.0);
            chart.getStyler().setXAxisLabelRotation(20);
            chart.addSeries("with data", names, withData).setFillColor(new Color(0xd6, 0x27, 0x28));
            chart.addSeries("zero", names, zero).setFillColor(new Color(0xc7, 0xc7, 0xc7));
            return chart;
        });
    }

    private interface StateFunction<T> { T apply(VmState state) throws IOException; }

    private static <T> T withState(Object path, String snapshot, StateFunction<T> f) {
        try (Qcow2Image img = Qcow2Image.open(Charts.file(path), OpenOptions.defaults())) {
            SnapshotEntry entry = img.findSnapshot(snapshot).orElseThrow(() ->
                    new IllegalArgumentException(img.describe() + ": snapshot '" + snapshot + "' not found"));
            return f.apply(VmState.of(img, entry));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long guestPhysical(MemoryLayout layout, long blockOffset) {
        for (RamRange r : layout.ranges()) {
            if (blockOffset >= r.blockOffset() && blockOffset < r.blockEnd()) return r.guestPhysical() + blockOffset - r.blockOffset();
        }
        return blockOffset;
    }

    private static long roundUp(long v, long to) { return (v + to - 1) / to * to; }

    private static String mib(long bytes) {
        return bytes % (1 << 20) == 0 ? Long.toString(bytes >> 20) : String.format("%.1f", bytes / (double) (1 << 20));
    }

    private static CategoryChart bars(String title, String x, String y) {
        CategoryChart chart = new CategoryChartBuilder().width(800).height(380).title(title).xAxisTitle(x).yAxisTitle(y).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setYAxisDecimalPattern("#,###");
        return chart;
    }
}
