package dev.qcow2.dsl

import dev.qcow2.image.ChainMap
import dev.qcow2.image.MapEntry
import groovy.transform.CompileStatic

import java.nio.charset.StandardCharsets
import java.util.regex.Pattern

/**
 * {@code find bytes} and {@code find ~/regex/} over guest space (a view) or host space
 * ({@code host: true}: the image file itself). Bytes are matched as they are; a regex is matched
 * against the bytes read as ISO-8859-1 (one char per byte, so match offsets are byte offsets).
 * Guest ranges that read as zeros are skipped when the pattern cannot match zeros. A regex match
 * may be at most {@link #OVERLAP} bytes long. Stops after {@code limit:} matches (default 1000).
 * Progress: bytes searched (a search stopped by the limit finishes early); Ctrl-C stops between chunks.
 */
@CompileStatic
final class Finder {
    static final int CHUNK = 1 << 20
    static final int OVERLAP = 4096

    private Finder() { }

    private interface Source {
        long size()
        void read(long offset, byte[] buf, int length)
    }

    static Table find(View view, Map options, Object pattern) {
        Pattern regex = pattern instanceof Pattern ? (Pattern) pattern : Pattern.compile(Pattern.quote(text(pattern)), Pattern.DOTALL)
        int overlap = pattern instanceof Pattern ? OVERLAP : Math.max(0, text(pattern).length() - 1)
        if (!(pattern instanceof Pattern) && text(pattern).isEmpty()) throw new DslException('find: the pattern is empty')
        int limit = options.limit == null ? 1000 : (int) Sizes.parse(options.limit, 'limit')
        boolean host = options.host as boolean
        def img = view.session.image()
        long cs = img.header().clusterSize()
        def t = Table.of("matches of ${pattern instanceof Pattern ? '~/' + pattern + '/' : describe(pattern)} in ${host ? 'host' : view.space}",
                [Column.hex('offset'), Column.plain('cluster'), Column.bytes('length'), Column.plain('match')], 'match')
        List<long[]> ranges
        Source src
        if (host) {
            def storage = img.storage()
            ranges = [[0L, storage.size()] as long[]]
            src = [size: { storage.size() }, read: { long o, byte[] b, int n -> storage.readFully(o, java.nio.ByteBuffer.wrap(b, 0, n)) }] as Source
        } else {
            def dev = view.device()
            src = [size: { dev.size() }, read: { long o, byte[] b, int n -> dev.read(o, b, 0, n) }] as Source
            boolean zerosMatch = regex.matcher(new String(new byte[OVERLAP], StandardCharsets.ISO_8859_1)).find()
            ranges = zerosMatch ? [[0L, dev.size()] as long[]] : dataRanges(view)
        }
        def meter = Meter.start(view.session, 'find', (long) ranges.sum(0L) { long[] r -> r[1] - r[0] })
        for (long[] r : ranges) {
            if (t.size() >= limit) break
            scan(src, r[0], r[1], regex, overlap, limit, cs, t, meter)
        }
        meter.finish()
        t.build()
    }

    /** Guest ranges that do not simply read as zeros, merged where adjacent. */
    private static List<long[]> dataRanges(View view) {
        List<long[]> out = []
        def dev = view.device()
        for (MapEntry e : ChainMap.walk(dev, 0, dev.size())) {
            if (e.zero() && !e.data()) continue
            if (!out.isEmpty() && out[-1][1] == e.start()) out[-1][1] = e.end()
            else out << ([e.start(), e.end()] as long[])
        }
        out
    }

    private static void scan(Source src, long from, long to, Pattern regex, int overlap, int limit, long cs, Table.Builder t, Meter meter) {
        byte[] buf = new byte[CHUNK + overlap]
        for (long pos = from; pos < to && t.size() < limit; pos += CHUNK) {
            Meter.cancelPoint()
            int n = (int) Math.min(buf.length, to - pos)
            src.read(pos, buf, n)
            def m = regex.matcher(new String(buf, 0, n, StandardCharsets.ISO_8859_1))
            int own = (int) Math.min(CHUNK, to - pos)   // matches starting in the overlap belong to the next chunk
            while (m.find() && t.size() < limit) {
                if (m.start() >= own) break
                long at = pos + m.start()
                t.add(at, at.intdiv(cs), (long) (m.end() - m.start()), preview(m.group()))
                if (m.end() == m.start() && m.end() >= n) break
            }
            meter.advance(Math.min(CHUNK, to - pos))
        }
    }

    /** Bytes to look for: a byte array, a list of byte values, or a string (UTF-8). */
    private static String text(Object pattern) {
        byte[] b
        if (pattern instanceof byte[]) b = (byte[]) pattern
        else if (pattern instanceof List) b = ((List) pattern).collect { (byte) ((Number) it).intValue() } as byte[]
        else if (pattern instanceof CharSequence) b = pattern.toString().getBytes(StandardCharsets.UTF_8)
        else throw new DslException("find: takes a string, bytes ([0x55, 0xaa] as byte[]) or a regex ~/…/, not ${pattern?.getClass()?.simpleName}")
        new String(b, StandardCharsets.ISO_8859_1)
    }

    private static String describe(Object pattern) {
        pattern instanceof CharSequence ? "'$pattern'" : text(pattern).getBytes(StandardCharsets.ISO_8859_1).encodeHex().toString()
    }

    private static String preview(String s) {
        String shown = s.length() > 40 ? s.substring(0, 40) + '…' : s
        shown.collect { String c -> (int) c.charAt(0) >= 0x20 && (int) c.charAt(0) < 0x7f ? c : '.' }.join('')
    }
}
