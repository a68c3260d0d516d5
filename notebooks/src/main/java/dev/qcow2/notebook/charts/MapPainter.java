package dev.qcow2.notebook.charts;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.Hashtable;
import java.util.Map;
import java.util.List;

/**
 * Draws an allocation map: one square per cluster, row after row (64 per row), colored by kind,
 * with the first offset of each row on the left and a legend with counts below. Images with more
 * than {@link #MAX_CELLS} clusters are aggregated: each square stands for a fixed run of clusters
 * and takes the color of the kind most of them have, except that a run holding any cluster of
 * an alarm kind (leaked, past end of file) shows that kind, so a single leak stays visible.
 */
final class MapPainter {
    static final int COLUMNS = 64;
    static final int MAX_CELLS = 64 * 64;
    private static final int CELL = 12, LEFT = 96, TOP = 44, WIDTH = LEFT + COLUMNS * CELL + 16;

    record Kind(String label, Color color, boolean alarm) { }

    private MapPainter() { }

    /** @param ordinals each cluster's kind (index into {@code kinds}); {@code unit} names what a cluster is ("host", "guest") */
    static BufferedImage paint(String title, byte[] ordinals, List<Kind> kinds, long[] counts, int clusterSize) {
        long n = ordinals.length;
        int perCell = (int) Math.max(1, (n + MAX_CELLS - 1) / MAX_CELLS);
        int cells = (int) ((n + perCell - 1) / perCell);
        int rows = Math.max(1, (cells + COLUMNS - 1) / COLUMNS);
        int legendRows = (kinds.size() + 2) / 3;
        int height = TOP + rows * CELL + 24 + legendRows * 20 + 12;
        var rgb = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        // the title rides along as an image property: notebooks show it as the text/plain alternative
        var img = new BufferedImage(rgb.getColorModel(), rgb.getRaster(), false, new Hashtable<>(Map.of(Charts.TITLE, title)));
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, height);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            g.drawString(title, 8, 18);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            g.drawString(n + " clusters of " + clusterSize + " bytes" + (perCell > 1 ? ", one square = " + perCell + " clusters" : ", one square each"), 8, 34);
            int[] tally = new int[kinds.size()];
            for (int cell = 0; cell < cells; cell++) {
                int from = cell * perCell, to = (int) Math.min(n, (long) from + perCell);
                java.util.Arrays.fill(tally, 0);
                for (int c = from; c < to; c++) tally[ordinals[c]]++;
                g.setColor(kinds.get(dominant(tally, kinds)).color());
                int x = LEFT + (cell % COLUMNS) * CELL, y = TOP + (cell / COLUMNS) * CELL;
                g.fillRect(x, y, CELL - 1, CELL - 1);
            }
            g.setColor(Color.DARK_GRAY);
            g.setFont(new Font(Font.MONOSPACED, Font.PLAIN, 10));
            int labelEvery = Math.max(1, rows / 24);
            for (int r = 0; r < rows; r += labelEvery) {
                long offset = (long) r * COLUMNS * perCell * clusterSize;
                g.drawString(String.format("0x%x", offset), 6, TOP + r * CELL + CELL - 2);
            }
            g.setStroke(new BasicStroke(1));
            g.drawRect(LEFT - 1, TOP - 1, COLUMNS * CELL, rows * CELL);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            int ly = TOP + rows * CELL + 20;
            for (int i = 0; i < kinds.size(); i++) {
                int lx = 8 + (i % 3) * 280, y = ly + (i / 3) * 20;
                g.setColor(kinds.get(i).color());
                g.fillRect(lx, y - 10, 12, 12);
                g.setColor(Color.GRAY);
                g.drawRect(lx, y - 10, 12, 12);
                g.setColor(Color.BLACK);
                g.drawString(kinds.get(i).label() + " (" + counts[i] + ")", lx + 18, y);
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    private static int dominant(int[] tally, List<Kind> kinds) {
        int best = 0;
        for (int k = 0; k < tally.length; k++) {
            if (tally[k] > 0 && kinds.get(k).alarm()) return k;
            if (tally[k] > tally[best]) best = k;
        }
        return best;
    }
}
