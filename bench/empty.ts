// empty.ts -- a script that does nothing: Deno's own start-up floor, for bench.ts.
