package dev.qcow2.cli;

import picocli.CommandLine.Option;

/**
 * {@code --image-opts}: the image operand is qemu block options, not a file name:
 * {@code driver=qcow2,file.filename=PATH,encrypt.key-secret=ID[,backing.encrypt.key-secret=ID2]}
 * (see {@link ImageArg}). Excludes {@code -f}, as in qemu-img.
 */
final class ImageOptsOption {
    @Option(names = "--image-opts", descriptionKey = "image-opts",
            description = {"FILE is qemu image options instead of a file name:", "driver=qcow2,file.filename=F,encrypt.key-secret=ID",
                    "(backing.encrypt.key-secret=ID2 for its backing file; ,, is a comma)."})
    boolean on;
}
