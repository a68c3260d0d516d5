package dev.qcow2.cli

import dev.qcow2.testing.Qemu

import java.nio.file.Path

/** Small images built with qemu-img/qemu-io, one per scenario name. */
class Images {
    static final List<String> KINDS = ['plain', 'cluster512', 'cluster2M', 'v2', 'compressed', 'zstd', 'zero-discard',
                                       'prealloc-metadata', 'snapshots', 'chain3', 'short-backing', 'raw-backing',
                                       'datafile', 'extl2', 'odd-size', 'empty']

    static Path build(Path dir, String kind) {
        def img = dir.resolve("${kind}.qcow2")
        switch (kind) {
            case 'plain': Qemu.create(img, '8M'); Qemu.io(img, 'write -P 0x11 0 100k', 'write -P 0x22 3M 64k'); break
            case 'cluster512': Qemu.create(img, '1M', 'cluster_size=512'); Qemu.io(img, 'write -P 3 1k 7k', 'write -P 4 600k 1536'); break
            case 'cluster2M': Qemu.create(img, '8M', 'cluster_size=2M'); Qemu.io(img, 'write -P 5 2M 4k'); break
            case 'v2': Qemu.create(img, '4M', 'compat=0.10'); Qemu.io(img, 'write -P 6 64k 64k'); break
            case 'compressed': Qemu.create(img, '4M'); Qemu.io(img, 'write -c -P 7 0 64k', 'write -c -P 8 128k 64k', 'write -P 9 256k 64k'); break
            case 'zstd': Qemu.create(img, '4M', 'compression_type=zstd'); Qemu.io(img, 'write -c -P 7 0 64k', 'write -P 1 1M 4k'); break
            case 'zero-discard':
                Qemu.create(img, '4M'); Qemu.io(img, 'write -P 1 0 1M', 'write -z 64k 64k', 'discard 256k 128k', 'write -z 2M 128k'); break
            case 'prealloc-metadata': Qemu.create(img, '2M', 'preallocation=metadata'); Qemu.io(img, 'write -P 3 64k 4k'); break
            case 'snapshots':
                Qemu.create(img, '4M'); Qemu.io(img, 'write -P 1 0 128k')
                Qemu.img('snapshot', '-c', 'one', img.toString())
                Qemu.io(img, 'write -P 2 64k 128k', 'write -z 0 4k')
                Qemu.img('snapshot', '-c', 'two', img.toString())
                Qemu.io(img, 'write -P 3 1M 64k')
                break
            case 'chain3':
                def b = Qemu.create(dir.resolve('c-base.qcow2'), '4M'); Qemu.io(b, 'write -P 1 0 1M')
                def m = Qemu.create(dir.resolve('c-mid.qcow2'), '4M', 'backing_file=c-base.qcow2,backing_fmt=qcow2'); Qemu.io(m, 'write -P 2 512k 1M', 'write -z 0 64k')
                Qemu.create(img, '4M', 'backing_file=c-mid.qcow2,backing_fmt=qcow2'); Qemu.io(img, 'write -P 3 1M 64k')
                break
            case 'short-backing':
                def s = Qemu.create(dir.resolve('short-base.qcow2'), '1M'); Qemu.io(s, 'write -P 1 0 1M')
                Qemu.create(img, '3M', 'backing_file=short-base.qcow2,backing_fmt=qcow2'); Qemu.io(img, 'write -P 2 2M 64k')
                break
            case 'raw-backing':
                def r = dir.resolve('rb.raw'); r.toFile().bytes = (0..<300000).collect { (byte) (it * 7) } as byte[]
                Qemu.create(img, '1M', 'backing_file=rb.raw,backing_fmt=raw'); Qemu.io(img, 'write -P 2 64k 64k')
                break
            case 'datafile': Qemu.create(img, '2M', "data_file=${dir.resolve('df.raw')}"); Qemu.io(img, 'write -P 4 0 64k', 'write -P 5 1M 4k'); break
            case 'extl2': Qemu.create(img, '4M', 'extended_l2=on,cluster_size=64k'); Qemu.io(img, 'write -P 1 0 2k', 'write -P 2 10k 4k', 'write -z 20k 2k'); break
            case 'odd-size': Qemu.create(img, '1000001'); Qemu.io(img, 'write -P 1 0 512', 'write -P 2 999424 512'); break
            case 'empty': Qemu.create(img, '16M'); break
        }
        img
    }
}
