package dev.qcow2.chain;

import dev.qcow2.crypto.SecretLookup;
import dev.qcow2.image.BackingName;
import dev.qcow2.image.FollowPolicy;
import dev.qcow2.image.LayerSecrets;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.storage.WritableOpener;
import dev.qcow2.write.WriteOptions;
import dev.qcow2.image.Qcow2Image;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code qemu-img commit} (7.2's img_commit, an active commit job run to completion): every
 * range that the top image or an intermediate image decides — data, and zeros as zero writes —
 * is written into the base, which first grows to the top's size if it is smaller. Without
 * {@code drop} the top image is emptied afterwards ({@link MakeEmpty}), so that it shows the
 * base through. Names and files of the chain are not changed.
 *
 * <p>Crash safety: the base is written through {@link dev.qcow2.write.Qcow2Writer} and flushed
 * before the top is touched; emptying the top only drops references (at worst leaked
 * clusters), and the guest content is the same at every step.
 */
public final class Commit {
    static final int IO_BUF = 2 << 20;
    private static final long QUERY = 1L << 30;

    /**
     * @param base the base image as named on the command line ({@code -b}), or null for the top's backing file
     * @param drop keep the top image's content ({@code -d}; implied by {@code -b})
     * @param follow which files the chain's images name are opened ({@link FollowPolicy}, anchored at the top)
     */
    public record Options(String base, boolean drop, FollowPolicy follow) {
        public Options {
            if (follow == null) follow = FollowPolicy.imageTree();
        }

        public Options(String base, boolean drop) { this(base, drop, null); }
    }

    private Commit() { }

    /** @param top the image to commit, as named by the user (messages quote it) */
    public static void commit(Path top, Options o, Progress progress) throws IOException {
        commit(top, o, SecretLookup.none(), progress);
    }

    /**
     * {@link #commit(Path, Options, Progress)} of a chain with encrypted layers: {@code secrets}
     * gives each layer's secret by depth (0 = {@code top}) and by the ids {@code json:} backing
     * names carry; the base is written with its own secret (its data encrypted with its key).
     */
    public static void commit(Path top, Options o, SecretLookup secrets, Progress progress) throws IOException {
        commit(top, o, secrets, WritableOpener.FILES, progress);
    }

    /** {@link #commit(Path, Options, SecretLookup, Progress)} with the files written opened by {@code opener} (fault specs). */
    public static void commit(Path top, Options o, SecretLookup secrets, WritableOpener opener, Progress progress) throws IOException {
        FollowPolicy follow = o.follow().anchoredAt(top);
        try (Qcow2Image chain = Qcow2Image.open(top, OpenOptions.permissive().withSecrets(secrets).withFollow(follow))) {
            ChainLayers.Found found = ChainLayers.find(chain, top.toString(), o.base());
            // the base is layer found.above().size() of the chain; its json: name may name its secret
            Optional<String> baseKeyId = BackingName.parse(top.toString(), found.base().name()).keySecretId();
            WriteOptions baseOptions = WriteOptions.defaults()
                    .withSecrets(LayerSecrets.at(secrets, found.above().size(), baseKeyId)).withFollow(follow).withOpener(opener);
            try (CommitTarget target = CommitTarget.open(found.basePath(), found.baseFormat(), baseOptions)) {
                copy(chain, new ChainLayers(found.above()), target, progress);
            }
        }
        if (o.base() == null && !o.drop()) MakeEmpty.empty(top, WriteOptions.defaults().withSecrets(secrets).withFollow(follow).withOpener(opener));
    }

    private static void copy(Qcow2Image top, ChainLayers layers, CommitTarget target, Progress progress) throws IOException {
        long size = top.size();
        if (target.size() < size) target.grow(size);
        byte[] buf = new byte[IO_BUF];
        long offset = 0;
        while (offset < size) {
            ChainLayers.Span span = layers.decide(offset, Math.min(QUERY, size - offset));
            long len = span.length();
            switch (span.kind()) {
                case DATA -> {
                    len = Math.min(len, IO_BUF);
                    top.read(offset, buf, 0, (int) len);
                    target.write(offset, buf, 0, (int) len);
                }
                case ZERO -> target.zero(offset, len);
                case NONE -> { }
            }
            offset += len;
            progress.update(offset, size);
        }
        target.flush();
        progress.update(size, size);
    }
}
