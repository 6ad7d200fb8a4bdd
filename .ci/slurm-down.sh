#!/usr/bin/env bash
# Cancels every job and stops the single-node Slurm that .ci/slurm-up.sh started.
exec "$(dirname "$0")/slurm-up.sh" down
