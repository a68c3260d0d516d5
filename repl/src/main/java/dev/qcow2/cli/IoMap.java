package dev.qcow2.cli;

import dev.qcow2.write.Qcow2Writer;

import java.io.IOException;
import java.io.PrintWriter;

/** qemu-io's {@code map}: runs of this layer's allocation status (map_f with map_is_allocated merging). */
final class IoMap {
    private final Qcow2Writer image;
    private final PrintWriter out;

    IoMap(Qcow2Writer image, PrintWriter out) {
        this.image = image;
        this.out = out;
    }

    void print() throws IOException {
        long size = image.size();
        long step = image.geometry().subclusterSize();
        long offset = 0;
        while (offset < size) {
            boolean allocated = image.allocated(offset);
            long end = Math.min(size, offset - offset % step + step);
            while (end < size && image.allocated(end) == allocated) end = Math.min(size, end + step);
            long num = end - offset;
            out.printf("%s (0x%x) bytes %s at offset %s (0x%x)%n", IoReport.cvtstr(num), num,
                    allocated ? "    allocated" : "not allocated", IoReport.cvtstr(offset), offset);
            offset = end;
        }
    }
}
