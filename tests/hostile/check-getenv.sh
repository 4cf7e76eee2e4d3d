#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# trail reads the environment with secure_getenv() only: in a setuid or
# setgid program the environment belongs to the caller, not the program.
# Fails when libtrail imports getenv() (or reads environ directly).
set -eu
lib="$1"
imports=$(nm -D --undefined-only "$lib" | awk '{print $NF}' | sed 's/@.*//')
if ! echo "$imports" | grep -qx secure_getenv; then
        echo "libtrail does not import secure_getenv: is the check still right?" >&2
        exit 1
fi
bad=$(echo "$imports" | grep -xE 'getenv|__environ|environ|clearenv|putenv|setenv' || true)
if [ -n "$bad" ]; then
        echo "libtrail imports: $bad (use secure_getenv)" >&2
        exit 1
fi
echo "libtrail reads the environment with secure_getenv only"
