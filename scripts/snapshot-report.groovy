/*
 * snapshot-report.groovy — every internal snapshot with its date and how far the active state
 * has moved away from it: guest clusters changed, added, discarded and zeroed since, with bytes.
 *
 *   ./qcow2 run scripts/snapshot-report.groovy IMAGE
 *
 * Read-only. Exit status 0 (also when there are no snapshots), 1 on error.
 */
if (args.length != 1) fail 'usage: qcow2 run snapshot-report.groovy IMAGE'

open args[0]
def snaps = snapshot.list
if (!snaps) {
    println "${args[0]}: no snapshots"
    exit 0
}

def report = Table.of("snapshots of ${args[0]} against the active state", [Column.plain('id'), Column.plain('name'),
        Column.plain('date'), Column.plain('changed'), Column.plain('added'), Column.plain('discarded'),
        Column.plain('zeroed'), Column.bytes('bytes_differing')])
snaps.each { s ->
    def d = snapshot.diff s.id      // this snapshot → the active state
    def count = { String kind -> d.findAll { it.change == kind }.size() }
    report.add(s.id, s.name, s.date, count('changed'), count('added'), count('discarded'), count('zeroed'),
            d.collect { it.bytes as long }.sum(0L))
}
println report.build()
