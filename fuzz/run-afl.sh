#!/usr/bin/env bash
# Coverage-guided fuzzing of the three decoders: AFL++ drives fuzz/Fuzz.csproj, whose SocketIoSignal.dll is
# instrumented by SharpFuzz. Usage: fuzz/run-afl.sh [seconds]   (default 300)
# Needs: apt-get install afl++; dotnet tool install --tool-path /tmp/tools SharpFuzz.CommandLine --version 2.3.0
# (or SHARPFUZZ=/path/to/sharpfuzz). Crashes land in fuzz/findings/default/crashes; replay one with
#   dotnet fuzz/bin/out/Fuzz.dll fuzz/findings/default/crashes/id:...
# and add it to DecoderFuzzTests.Regressions (first byte: 0 Engine.IO text, 1 Engine.IO binary, 2 Socket.IO).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-300}"
sharpfuzz="${SHARPFUZZ:-$(command -v sharpfuzz || echo /tmp/tools/sharpfuzz)}"
out=bin/out

dotnet publish Fuzz.csproj -c Release -o "$out" --nologo -v quiet
"$sharpfuzz" "$out/SocketIoSignal.dll"

# Seeds: one per decoder from the wire strings the tests use.
mkdir -p corpus
i=0
while IFS= read -r line; do
  for sel in 0 1 2; do
    printf "\\x0$sel%s" "$line" > "corpus/seed-$sel-$i"
  done
  i=$((i + 1))
done <<'SEEDS'
4hello
2probe
6:4hello2:4€
2:2probe1:5
4hello4world
b4AQID
42["message","hi"]
42/chat,17["ev",{"a":[1,2,{"b":null}]}]
451-["m",{"_placeholder":true,"num":0}]
40/admin,{"token":"x"}
SEEDS
printf '\x01\x00\x05\xff4hello\x01\x04\xff\x01\x02\x03\x04' > corpus/seed-bin

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
rm -rf findings
afl-fuzz -i corpus -o findings -t 10000 -m none -V "$seconds" -- dotnet "$out/Fuzz.dll"
crashes=$(find findings -path '*crashes/id:*' | wc -l)
echo "crashes: $crashes"
