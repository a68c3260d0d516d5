#!/usr/bin/env bash
# Installs the Jupyter kernelspec "qcow2 toolkit (Java)" for the current user
# (~/.local/share/jupyter/kernels/qcow2-java), or into the kernels folder given as an argument:
#   install-kernel.sh [--no-cache] [--interrupt-mode=message|signal] [KERNELS_DIR]
# The kernelspec gets its own copy of the class path (lib/) and the kernel's AOT cache
# (kernel.aot, made by one training run of the kernel, ~15 s); --no-cache skips the cache.
# Builds the notebooks module (and what it needs) first when it has not been built.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
target=$root/notebooks/target
if [[ ! -f $target/kernel.classpath || ! -d $target/classes/dev ]]; then
    (cd "$root" && mvn -q -B package -pl notebooks -am -DskipTests </dev/null)
fi
source "$root/jdk.sh"
jdk=$(find_jdk) || { echo "install-kernel: $QCOW2_NO_JDK_MESSAGE" >&2; exit 1; }
exec "$jdk/bin/java" -cp "$target/classes:$(cat "$target/kernel.classpath")" dev.qcow2.notebook.Install "$@"
