#!/usr/bin/env python3
"""phases.py STACKS REQS PHASE...: user and kernel time per request (us, in
perf's inflated units: compare targets, not absolutes) under each PHASE
(a substring of a frame), from `perf script -F ip,sym` of a perf record -g
run (prof.sh). A sample counts under every phase on its stack; "user" is
a sample whose leaf is Go code, "kernel" one whose leaf is the kernel's."""
import collections, sys

def main():
    stacks, req, phases = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    user, kern = collections.Counter(), collections.Counter()
    tot = tot_user = 0
    for s in open(stacks).read().split('\n\n'):
        fr = [l.strip().split(' ', 1)[1] for l in s.strip().split('\n') if ' ' in l.strip()]
        if not fr:
            continue
        tot += 1
        leaf = fr[0]
        go = '.' in leaf and ('/' in leaf or leaf.startswith((
            'runtime', 'internal', 'sync', 'bytes', 'time', 'syscall', 'net.', 'bufio',
            'strconv', 'crypto', 'main.', 'type:', 'aeshash', 'memeq', 'indexbyte', 'cmpbody')))
        tot_user += go
        chain = ' '.join(fr)
        for p in phases:
            if p in chain:
                (user if go else kern)[p] += 1
    f = lambda c: c / 4000 / req * 1e6  # prof.sh samples at 4 kHz
    print('total %.2f us/req, user %.2f' % (f(tot), f(tot_user)))
    for p in phases:
        print('%7.2f user %7.2f kernel  %s' % (f(user[p]), f(kern[p]), p))

main()
