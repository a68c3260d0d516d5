package dev.qcow2.notebook;

import dev.qcow2.dsl.Dsl;
import dev.qcow2.dsl.Hexdump;
import dev.qcow2.dsl.Record;
import dev.qcow2.dsl.Table;
import dev.qcow2.notebook.charts.Charts;
import dev.qcow2.notebook.charts.Png;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.knowm.xchart.internal.chartpart.Chart;

import java.awt.image.RenderedImage;
import java.util.Base64;

/**
 * What a value looks like in a notebook: DSL tables, records and hexdumps as text/plain and
 * text/html; XChart charts and images (the allocation maps) as image/png with their title as
 * the text/plain alternative; anything else as its text. Null shows nothing.
 */
public final class Displays {
    private Displays() { }

    public static DisplayData of(Object value) {
        if (value == null) return null;
        if (value instanceof DisplayData d) return d;
        if (value instanceof Table || value instanceof Record || value instanceof Hexdump) {
            DisplayData d = new DisplayData(Dsl.render(value, "text"));
            d.putHTML(Dsl.render(value, "html"));
            return d;
        }
        if (value instanceof Chart<?, ?> chart) return png(Png.of(chart), chart.getTitle());
        if (value instanceof RenderedImage image) return png(Png.of(image), title(image));
        return new DisplayData(String.valueOf(value));
    }

    /** A map's title (see Charts.TITLE), else "image". */
    private static String title(RenderedImage image) {
        Object t = image.getProperty(Charts.TITLE);
        return t instanceof String s && !s.isEmpty() ? s : "image";
    }

    private static DisplayData png(byte[] bytes, String alt) {
        DisplayData d = new DisplayData(alt == null || alt.isEmpty() ? "chart" : alt);
        d.putData("image/png", Base64.getEncoder().encodeToString(bytes));
        return d;
    }
}
