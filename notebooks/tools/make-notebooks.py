#!/usr/bin/env python3
"""Writes notebooks/0*.ipynb (or those named as arguments) without outputs (see README-section.md for executing them to store the outputs).

The notebooks are kept as code here so a change is one reviewable diff; the .ipynb files are what
GitHub renders and what NotebooksSpec executes."""
import json, pathlib

HERE = pathlib.Path(__file__).resolve().parent.parent

def nb(name, cells):
    out = []
    for i, (kind, text) in enumerate(cells):
        text = text.strip('\n')
        cell = {"cell_type": kind, "id": f"{name}-{i:02d}", "metadata": {}, "source": text.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        out.append(cell)
    return {"cells": out, "nbformat": 4, "nbformat_minor": 5, "metadata": {
        "kernelspec": {"name": "qcow2-java", "display_name": "qcow2 toolkit (Java)", "language": "java"},
        "language_info": {"name": "java", "file_extension": ".jshell", "mimetype": "text/x-java-source"}}}

M, C = "markdown", "code"

TRIAGE = [
(M, """
# 01 · Triage of a damaged image

We make a small qcow2 image with the toolkit's own writer, take a snapshot, then damage it the way
a crash or a careless tool does: two clusters get a refcount although nothing points at them
(**leaks**), and a cluster shared with the snapshot gets a refcount that is **too low**.
Then we look at it: `info`, `check`, the findings, the host allocation map, the leak list.

Java cells run in JShell with the toolkit imported; cells starting with `%%dsl` run the Groovy DSL
in one session shared by every `%%dsl` cell."""),
(C, """
Path work = Files.createTempDirectory("qcow2-triage");
Path disk = work.resolve("damaged.qcow2");
ImageCreator.create(disk, CreateOptions.parse("size=4M"));          // 64 KiB clusters, 16-bit refcounts
try (var w = Qcow2Writer.open(disk, WriteOptions.defaults())) {
    for (int c = 0; c < 6; c++) w.write(c * 65536L, DemoImages.fill(0x10 + c, 65536));
    w.writeCompressed(8 * 65536L, DemoImages.fill(0x88, 65536));
    w.writeCompressed(9 * 65536L, DemoImages.fill(0x99, 65536));
}
try (var s = Snapshots.open(disk)) { s.create("base", java.time.Instant.parse("2024-01-01T00:00:00Z")); }
try (var w = Qcow2Writer.open(disk, WriteOptions.defaults())) {
    w.write(65536L, DemoImages.fill(0x21, 65536));                 // copied on write: the snapshot keeps the old cluster
    w.write(12 * 65536L, DemoImages.fill(0x2c, 4096));
}
Files.size(disk)
"""),
(M, """
Now the damage, written into the refcount blocks with `RefcountEditor` (the toolkit's refcount writer, for demos and experts): two new clusters at the end of the file
with refcount 1 (leaks), and guest cluster 2 — shared by the active state and the snapshot, so its
refcount must be 2 — set to 1."""),
(C, """
long shared;
try (var img = Qcow2Image.open(disk, OpenOptions.defaults())) {
    shared = ((L2Entry.Normal) img.mapper().entry(new GuestOffset(2 * 65536L))).hostOffset() / 65536;
}
RefcountEditor.leakOneCluster(disk, new byte[0]);   // refcount 1, referenced by nothing
RefcountEditor.leakOneCluster(disk, new byte[0]);
RefcountEditor.set(disk, shared, 1);                 // two trees use it: it must be 2
share("disk", disk);                 // a variable for the %%dsl cells
"host cluster with the too-low refcount: " + shared
"""),
(M, "`open` shows the image's `info` (here without the `file` field: the full path is a temporary directory)."),
(C, """
%%dsl
open(disk).without 'file'
"""),
(C, """
%%dsl
report = check
"""),
(M, "Every finding, as `qemu-img check` reports them:"),
(C, """
%%dsl
report.findings
"""),
(M, """
The host file cluster by cluster. Red squares are leaked clusters: a refcount, but no reference
from any L1/L2 table, refcount structure, snapshot or header."""),
(C, "Charts.hostMap(disk)"),
(C, """
%%dsl
refcounts.leaks
"""),
(C, """
%%dsl
refcounts.mismatches
"""),
(M, """
What the leaked clusters hold (and every other host cluster that nothing references or whose
refcount is 0): entropy in bits per byte, the first bytes, the owner if something uses it anyway.
`.bytes` and `.save(to: dir)` on a row give the contents."""),
(C, """
%%dsl
unreferenced.findAll { it.state != 'free' || it.nonzero_bytes > 0 }
"""),
(M, "What points at the cluster whose refcount is too low:"),
(C, """
%%dsl
refcounts.of(refcounts.mismatches.find { it.status == 'too low' }.cluster)
"""),
(M, "Charts without a path show the image open in the `%%dsl` session (in Java cells too: `Charts.leaks()`):"),
(C, """
%%dsl
charts.leaks()
"""),
(C, "Charts.refcountHistogram(disk)"),
(M, """
How contiguous the guest data is in the host file: each data cluster counted in the run of
host-contiguous clusters it belongs to (one long run reads sequentially; many runs of 1 mean
seeks), compressed clusters apart. The percentage is the one `qemu-img check` prints as
"fragmented" — the check above counted the same `fragmented_clusters` of `allocated_clusters`."""),
(C, "Charts.fragmentation(disk)"),
(C, "Charts.fragmentationOf(disk)"),
]

REPAIR = [
(M, """
# 02 · Repair, step by step

The damaged image of notebook 01 (made again here by `DemoImages.damaged`, the same steps), repaired
on a **copy**: first `repair leaks` (what `qemu-img check -r leaks` does), then `repair all`, with
the check and the allocation map before and after. Every repair keeps an undo journal; we look at
it and use it."""),
(C, """
Path work = Files.createTempDirectory("qcow2-repair");
Path original = DemoImages.damaged(work.resolve("damaged.qcow2"));
Path copy = Files.copy(original, work.resolve("repair.qcow2"));
share("copy", copy);
copy.getFileName()
"""),
(M, "## Before"),
(C, """
%%dsl
open copy, writable: true
check
"""),
(C, "Charts.hostMap(copy)"),
(M, "## Step 1: leaks"),
(C, """
%%dsl
first = repair leaks
first.without 'journal'          // the journal's path is a temporary directory; its name and size follow
"""),
(C, """
%%dsl
check
"""),
(M, "The leaked clusters at the end of the file are gone; the refcount that is too low is still there:"),
(C, """
%%dsl
refcounts.mismatches
"""),
(M, """
Each repair keeps an undo journal next to the image (the original bytes of every range it
changed) and refuses to start another while one is pending. We keep this repair, so we remove its
journal."""),
(C, """
Path journal1 = Path.of((String) ((dev.qcow2.dsl.Record) dsl("first")).getAt("journal"));
String kept = journal1.getFileName() + ": " + Files.size(journal1) + " bytes, removed (repair kept)";
Files.delete(journal1);
kept
"""),
(M, "## Step 2: everything else"),
(C, """
%%dsl
fixed = repair all
fixed.without 'journal'
"""),
(M, "The undo journal of this repair: every range it overwrote, with a digest and the first bytes before and now:"),
(C, """
%%dsl
display undoJournal
check
"""),
(M, "Undo puts the refcount that was too low back (the check finds the corruption again); then we redo the repair."),
(C, """
%%dsl
undo().without 'journal'
"""),
(C, """
%%dsl
check.corruptions
"""),
(C, """
%%dsl
repair all
check
"""),
(M, "## After"),
(C, """
%%dsl
display charts.hostMap()
refcounts.mismatches
"""),
(C, """
// the original is untouched
String verdict;
try (var img = Qcow2Image.open(original, OpenOptions.forChecking())) {
    var r = ImageChecker.check(img);
    verdict = "original: " + r.leaks() + " leaks, " + r.corruptions() + " corruptions";
}
verdict
"""),
]

SNAPSHOTS = [
(M, """
# 03 · Snapshots: timeline, divergence, diff, extraction

An image with three internal snapshots taken along a small history — `install` (clusters 0-7
written), `configure` (2-3 rewritten, 10-12 added), `update` (0 zeroed, 5 discarded, 4 rewritten
compressed) — and more writes in the active state after that."""),
(C, """
Path work = Files.createTempDirectory("qcow2-snapshots");
Path disk = DemoImages.timeline(work.resolve("timeline.qcow2"));
share("disk", disk);
share("work", work);
"""),
(C, """
%%dsl
open disk
snapshot.list
"""),
(M, "How many guest clusters read differently from one state to the next:"),
(C, "Charts.snapshotDivergence(disk)"),
(M, "Which clusters, and how many bytes of each, differ between two snapshots:"),
(C, """
%%dsl
snapshot.diff 'install', 'configure'
"""),
(C, """
%%dsl
snapshot.diff 'update'
"""),
(M, "The bytes of guest cluster 3 as each snapshot has them (configure rewrote only its first 512 bytes):"),
(C, """
%%dsl
display read(0x30000 + 0x1f0, 32, from: 'install')
read 0x30000 + 0x1f0, 32, from: 'configure'
"""),
(M, """
Extracting one snapshot as a raw disk and as a standalone qcow2 image (what `qemu-img convert -l
configure` writes), and checking both byte for byte against the snapshot view:"""),
(C, """
%%dsl
display export(snapshot: 'configure', to: work + '/configure.raw').without('file')
export(snapshot: 'configure', to: work + '/configure.qcow2', format: 'qcow2').without 'file'
"""),
(C, """
%%dsl
size = info.virtual_size
view = read(0, size, from: 'configure').bytes
raw = java.nio.file.Files.readAllBytes(java.nio.file.Path.of(work + '/configure.raw'))
open work + '/configure.qcow2'
qcow2 = read(0, size).bytes
open disk
"$size bytes; raw identical to the snapshot: ${Arrays.equals(raw, view)}; qcow2 identical: ${Arrays.equals(qcow2, view)}"
"""),
(M, "Where the active state's data lives now, and the host file with everything the snapshots keep alive:"),
(C, "Charts.guestMap(disk)"),
(C, "Charts.hostMap(disk)"),
]

MEMORY = [
(M, """
# 04 · Guest memory from a savevm snapshot

`savevm` (libvirt's `virsh snapshot-create` of a running VM) stores the whole VM state inside the
qcow2 file: guest RAM, CPU registers, devices. This notebook makes such a snapshot with QEMU itself
(`qemu-system-x86_64`, TCG, stopped before the first instruction, no OS) whose RAM is a file we
filled beforehand: a sentence at 2 MiB, 4 MiB of random data at 24 MiB and 1 MiB more at 40 MiB.
Then it reads that memory back out of the qcow2 file: the summary, a chart of the RAM, a hexdump at
a guest-physical address, a search, and memory images (LiME, ELF) that forensics tools read."""),
(C, """
Path work = Files.createTempDirectory("qcow2-memory");
Path disk = work.resolve("vm.qcow2");
ImageCreator.create(disk, CreateOptions.parse("size=256M"));
Path ram = work.resolve("ram.bin");                              // the guest's RAM (memory-backend-file)
try (var f = new java.io.RandomAccessFile(ram.toFile(), "rw")) {
    f.setLength(64L << 20);
    f.seek(0x200000); f.write("This is guest memory. The secret word is: swordfish.".getBytes());
    byte[] noise = new byte[4 << 20];
    new Random(4).nextBytes(noise);
    f.seek(24L << 20); f.write(noise);
    f.seek(40L << 20); f.write(noise, 0, 1 << 20);
}
Process qemu = new ProcessBuilder("qemu-system-x86_64", "-machine", "pc,accel=tcg", "-m", "64M", "-nodefaults",
        "-display", "none", "-S", "-object", "memory-backend-file,id=pc.ram,size=64M,mem-path=" + ram + ",share=on",
        "-machine", "memory-backend=pc.ram", "-drive", "file=" + disk + ",if=none,id=d0,format=qcow2",
        "-device", "ide-hd,drive=d0", "-qmp", "stdio").redirectErrorStream(true).start();
qemu.getOutputStream().write(("{\\"execute\\":\\"qmp_capabilities\\"}\\n"
        + "{\\"execute\\":\\"human-monitor-command\\",\\"arguments\\":{\\"command-line\\":\\"savevm s1\\"}}\\n"
        + "{\\"execute\\":\\"quit\\"}\\n").getBytes());
qemu.getOutputStream().flush();
String replies = new String(qemu.getInputStream().readAllBytes());   // until QEMU quits
qemu.waitFor();
share("disk", disk);
share("work", work);
replies.contains("error") ? replies : "savevm s1: done, QEMU exited with " + qemu.exitValue()
"""),
(C, """
%%dsl
open disk
snapshot.list
"""),
(M, """
The snapshot's VM state, decoded: the machine type from the stream's configuration section, the RAM
blocks of its block list (pages sent with data and as zero pages), where the main RAM sits in
guest-physical space, every device section (walked with the VMDESCRIPTION JSON at the end of the
stream) and the CPU's registers — the reset state here, since the guest never ran."""),
(C, """
%%dsl
vm = snapshot('s1').vmstate
vm.without('sections')
"""),
(C, """
%%dsl
vm.cpus
"""),
(C, """
%%dsl
vm.ram_blocks
"""),
(M, "Where in the RAM the data is (pages counted as the stream passes; red: pages with data):"),
(C, 'MemoryCharts.ramPages(disk, "s1")'),
(C, 'MemoryCharts.ramBlocks(disk, "s1")'),
(M, "The guest's memory at a guest-physical address, and a search over it:"),
(C, """
%%dsl
vm.ram.read(0x200000, 64)
"""),
(C, """
%%dsl
vm.ram.find('swordfish')
"""),
(M, """
Memory images for forensics tools: LiME (Volatility 3) and an ELF core (crash, MemProcFS); `raw`
is a sparse guest-physical image and `stream` the stored migration stream itself."""),
(C, """
%%dsl
vm.export(to: "$work/mem.lime", format: 'lime').without('file')
"""),
(C, """
byte[] lime = Files.readAllBytes(work.resolve("mem.lime"));
var h = java.nio.ByteBuffer.wrap(lime).order(java.nio.ByteOrder.LITTLE_ENDIAN);
String.format("LiME magic 0x%08x, version %d, range 0x%x-0x%x; the RAM in it is the guest's RAM file byte for byte: %b",
        h.getInt(0), h.getInt(4), h.getLong(8), h.getLong(16),
        Arrays.equals(Arrays.copyOfRange(lime, 32, lime.length), Files.readAllBytes(ram)))
"""),
(C, """
%%dsl
vm.export(to: "$work/mem.elf", format: 'elf').without('file')
"""),
]

RESCUE = [
(M, """
# 05 · Rescue and carving

A healthy image (the one of notebook 01 before its damage: data in guest clusters 0-5, two
compressed clusters, a snapshot `base`, clusters 1 and 12 rewritten after it) is damaged three
ways — its **header**, its active **L1** table, every active **L2** table zeroed — and each copy
is rescued into a new image with `Rescuer` (`qcow2 rescue`). Then the clusters no live table
references any more are **carved** (`qcow2 carve`, DSL `clusters.unreferenced` / `carve to:`),
each with what it most likely was. The damaged files are only ever read."""),
(C, """
Path work = Files.createTempDirectory("qcow2-rescue");
Path disk = DemoImages.healthy(work.resolve("disk.qcow2"));
Files.size(disk)
"""),
(M, """
## Before: the healthy image's host clusters"""),
(C, """
Charts.hostMap(disk)
"""),
(M, """
## Three kinds of damage
Each a copy of the healthy image with one structure overwritten with zeros (`DemoImages.damagedCopy`)."""),
(C, """
Map<String, Path> damaged = new LinkedHashMap<>();
Map<String, String> sha = new LinkedHashMap<>();
for (String what : List.of("header", "l1", "l2")) {
    Path p = DemoImages.damagedCopy(disk, work.resolve(what + "-zeroed.qcow2"), what);
    damaged.put(what, p);
    sha.put(what, HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
}
damaged.keySet()
"""),
(M, """
## Rescue
Each damaged copy into a new image. The report says what was found and how each guest cluster was
placed — certain (read off a table) or inferred."""),
(C, """
Map<String, dev.qcow2.rescue.RescueReport> reports = new LinkedHashMap<>();
for (var e : damaged.entrySet()) {
    reports.put(e.getKey(), dev.qcow2.rescue.Rescuer.rescue(e.getValue(), work.resolve(e.getKey() + "-rescued.qcow2")));
}
StringBuilder summary = new StringBuilder();
for (var e : reports.entrySet()) {
    var r = e.getValue();
    summary.append(e.getKey()).append(" zeroed: ").append(r.placedTotal()).append(" guest clusters placed (certain ")
           .append(r.placedCertain()).append(", inferred ").append(r.placedTotal() - r.placedCertain()).append("), ")
           .append(r.leftover()).append(" host clusters left over\\n");
}
summary.toString()
"""),
(M, """
The full report of the L2 case: the active L1 still names its L2 tables, but they hold zeros;
the snapshot's L1 and its own L2 copy survive, and place what the snapshot shared."""),
(C, """
String.join("\\n", reports.get("l2").structures().stream()
    .map(s -> s.status() + ": " + s.kind() + (s.hostOffset() >= 0 ? " at 0x" + Long.toHexString(s.hostOffset()) : "") + " - " + s.evidence())
    .toList())
"""),
(M, """
## After: the rescued images
The header-zeroed image rescued (its host layout is new: the rescue writes a fresh image), then
the guest clusters of the original and of the L2 case's rescued image side by side: what the
snapshot's surviving L2 copy placed, and what stayed unallocated (listed as left over)."""),
(C, """
Charts.hostMap(work.resolve("header-rescued.qcow2"))
"""),
(C, """
Charts.guestMap(disk)
"""),
(C, """
Charts.guestMap(work.resolve("l2-rescued.qcow2"))
"""),
(M, """
## Carving
With its active L1 zeroed, the image still has its header, its refcounts and the snapshot: the
active L2 tables and the data only they mapped are now **leaked** (refcount 1, no reference).
`clusters.unreferenced` lists them, with the guest range each old L2 table mapped and the data
clusters it placed."""),
(C, """
share("l1zeroed", damaged.get("l1"));
share("carved", work.resolve("carved").toString());
"""),
(C, """
%%dsl
open l1zeroed
clusters.unreferenced
"""),
(C, """
%%dsl
carve(to: carved).without('directory', 'manifest')
"""),
(C, """
Files.list(work.resolve("carved")).map(p -> p.getFileName().toString()).sorted().toList()
"""),
(M, """
Nothing was written to the damaged copies: their sha256 are what they were before the rescue and the carve."""),
(C, """
Map<String, Boolean> unchanged = new LinkedHashMap<>();
for (var e : damaged.entrySet()) {
    String now = HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(e.getValue())));
    unchanged.put(e.getKey(), now.equals(sha.get(e.getKey())));
}
unchanged
"""),
]

import sys
for name, cells in [("01-triage", TRIAGE), ("02-repair", REPAIR), ("03-snapshots", SNAPSHOTS), ("04-memory", MEMORY), ("05-rescue", RESCUE)]:
    if sys.argv[1:] and name not in sys.argv[1:]:
        continue  # make-notebooks.py 04-memory: write only that one
    (HERE / f"{name}.ipynb").write_text(json.dumps(nb(name, cells), indent=1, ensure_ascii=False) + "\n")
    print("wrote", name)
