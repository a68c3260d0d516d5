/*
 * triage.groovy — a first look at an image someone says is broken.
 *
 *   ./qcow2 run scripts/triage.groovy IMAGE
 *
 * Prints the image's info, the consistency check (result, leak and corruption counts, the
 * findings grouped by kind, the first 20 findings) and the snapshot list. Read-only.
 * Exit status as qemu-img check's: 0 clean, 2 corruptions, 3 leaks only, 1 the check itself
 * failed (or wrong usage).
 */
if (args.length != 1) fail 'usage: qcow2 run triage.groovy IMAGE'

open args[0]
println "== info"
println info

def c = check
println "\n== check: ${c.result}"
println "corruptions: ${c.corruptions}  leaks: ${c.leaks}  check errors: ${c.check_errors}  " +
        "allocated clusters: ${c.allocated_clusters}/${c.total_clusters}  compressed: ${c.compressed_clusters}"
if (c.findings) {
    c.findings.groupBy { it.type }.each { type, rows -> println "  ${rows.size()} × $type" }
    println c.findings.take(20)
    if (c.findings.size() > 20 || c.findings_omitted) println "(${c.findings.size() - 20 + (c.findings_omitted ?: 0)} more findings not shown)"
}

println "\n== snapshots"
def snaps = snapshot.list
println snaps ? snaps : '(none)'

exit c.exit_code
