;; Pass 1's structure check of a JSON-lines manifest (scan.ts), 16 bytes at a
;; time. A line is settled when it starts with "{" and ends with "}" before
;; its newline ("}\r\n" too): what finding record boundaries needs, since a
;; JSON string cannot hold a raw newline. Anything else (a blank line, spaces
;; around the braces, a last line with no newline) stops the scan at that
;; line's start, and scan.ts looks at it byte by byte.
;;
;; Built into line-scan-wasm.ts by scripts/wasm/build-line-scan.mjs.
(module
  ;; Bytes [0, 64) stay zero: loads at pos - 2 read them, never a line.
  (memory (export "memory") 5)
  ;; Lines settled by the last call of scan, and where the last of them started
  ;; (kept up to date only byte by byte, which is how a call that reaches its limit ends).
  (global $settled (export "settled") (mut i32) (i32.const 0))
  (global $lastStart (export "lastStart") (mut i32) (i32.const 0))
  ;; Set by $bytes: 1 when it stopped (limit reached or a line to look at), 0 when it ran to $to.
  (global $stopped (mut i32) (i32.const 0))

  ;; Settles lines from $pos (a line start) until $limit lines are settled,
  ;; or a line is not "{...}", or $end; returns the start of the first line
  ;; not settled. Needs $pos >= 2.
  (func (export "scan") (param $pos i32) (param $end i32) (param $limit i32) (result i32)
    (local $i i32) (local $lineStart i32)
    (local $newlines i32) (local $good i32) (local $count i32)
    (local $before v128) (local $newline v128) (local $open v128) (local $close v128) (local $return v128)
    (local.set $newline (i8x16.splat (i32.const 10)))
    (local.set $open (i8x16.splat (i32.const 0x7b)))
    (local.set $close (i8x16.splat (i32.const 0x7d)))
    (local.set $return (i8x16.splat (i32.const 13)))
    (global.set $settled (i32.const 0))
    (local.set $lineStart (local.get $pos))
    (if (i32.ge_u (local.get $pos) (local.get $end)) (then (return (local.get $pos))))
    (if (i32.ne (i32.load8_u (local.get $pos)) (i32.const 0x7b)) (then (return (local.get $pos))))
    (local.set $i (local.get $pos))
    (block $done
      (loop $blocks
        ;; Whole blocks while the byte after the block is still in range.
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 17)) (local.get $end)))
        ;; 64 bytes with no newline are skipped at once (most of a line).
        (if (i32.le_u (i32.add (local.get $i) (i32.const 65)) (local.get $end))
          (then
            (if (i32.eqz
                  (v128.any_true
                    (v128.or
                      (v128.or
                        (i8x16.eq (v128.load (local.get $i)) (local.get $newline))
                        (i8x16.eq (v128.load offset=16 (local.get $i)) (local.get $newline)))
                      (v128.or
                        (i8x16.eq (v128.load offset=32 (local.get $i)) (local.get $newline))
                        (i8x16.eq (v128.load offset=48 (local.get $i)) (local.get $newline))))))
              (then
                (local.set $i (i32.add (local.get $i) (i32.const 64)))
                (br $blocks)))))
        (local.set $newlines
          (i8x16.bitmask (i8x16.eq (v128.load (local.get $i)) (local.get $newline))))
        (if (local.get $newlines)
          (then
            ;; Each newline needs "}" or "}\r" before it and "{" after it.
            (local.set $before (v128.load (i32.sub (local.get $i) (i32.const 1))))
            (local.set $good
              (i8x16.bitmask
                (v128.and
                  (v128.or
                    (i8x16.eq (local.get $before) (local.get $close))
                    (v128.and
                      (i8x16.eq (local.get $before) (local.get $return))
                      (i8x16.eq (v128.load (i32.sub (local.get $i) (i32.const 2))) (local.get $close))))
                  (i8x16.eq (v128.load (i32.add (local.get $i) (i32.const 1))) (local.get $open)))))
            (local.set $count (i32.popcnt (local.get $newlines)))
            (if (i32.or
                  (i32.and (local.get $newlines) (i32.xor (local.get $good) (i32.const -1)))
                  (i32.ge_u (i32.add (global.get $settled) (local.get $count)) (local.get $limit)))
              (then
                ;; A line to look at, or the limit: this block byte by byte.
                (local.set $lineStart
                  (call $bytes (local.get $i) (i32.add (local.get $i) (i32.const 16)) (local.get $end) (local.get $lineStart) (local.get $limit)))
                (if (global.get $stopped) (then (return (local.get $lineStart))))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $blocks))
              (else
                (global.set $settled (i32.add (global.get $settled) (local.get $count)))
                (local.set $lineStart
                  (i32.add (local.get $i) (i32.sub (i32.const 32) (i32.clz (local.get $newlines)))))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $blocks)))
    ;; The last bytes, one at a time.
    (call $bytes (local.get $i) (local.get $end) (local.get $end) (local.get $lineStart) (local.get $limit)))

  ;; Bytes [$from, $to) one at a time, lines from $lineStart (already known
  ;; to start with "{"); returns the new line start, or where it stopped.
  (func $bytes (param $from i32) (param $to i32) (param $end i32) (param $lineStart i32) (param $limit i32) (result i32)
    (local $j i32) (local $last i32)
    (global.set $stopped (i32.const 0))
    (local.set $j (local.get $from))
    (block $out
      (loop $each
        (br_if $out (i32.ge_u (local.get $j) (local.get $to)))
        (if (i32.eq (i32.load8_u (local.get $j)) (i32.const 10))
          (then
            (local.set $last (i32.load8_u (i32.sub (local.get $j) (i32.const 1))))
            (if (i32.eqz
                  (i32.or
                    (i32.eq (local.get $last) (i32.const 0x7d))
                    (i32.and
                      (i32.eq (local.get $last) (i32.const 13))
                      (i32.eq (i32.load8_u (i32.sub (local.get $j) (i32.const 2))) (i32.const 0x7d)))))
              (then
                (global.set $stopped (i32.const 1))
                (return (local.get $lineStart))))
            (global.set $settled (i32.add (global.get $settled) (i32.const 1)))
            (global.set $lastStart (local.get $lineStart))
            (local.set $lineStart (i32.add (local.get $j) (i32.const 1)))
            (if (i32.ge_u (global.get $settled) (local.get $limit))
              (then
                (global.set $stopped (i32.const 1))
                (return (local.get $lineStart))))
            (if (i32.lt_u (local.get $lineStart) (local.get $end))
              (then
                (if (i32.ne (i32.load8_u (local.get $lineStart)) (i32.const 0x7b))
                  (then
                    (global.set $stopped (i32.const 1))
                    (return (local.get $lineStart))))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $each)))
    (local.get $lineStart))
)
