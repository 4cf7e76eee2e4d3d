# The collector: systemd-journal-remote taking uploads over HTTP and
# writing them into one journal file. Run as: sh journal-remote.sh DIR PORT
exec /lib/systemd/systemd-journal-remote \
        --listen-http=127.0.0.1:"$2" \
        --split-mode=none --output="$1"/remote.journal
