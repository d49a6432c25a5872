# usage: bash bench/.ab.sh op secs rounds
for r in $(seq 1 ${3:-3}); do
  BEFORE=1 node --conditions=source --import=tsx bench/.prof-tmp.ts $1 $2 | sed 's/^/before /'
  node --conditions=source --import=tsx bench/.prof-tmp.ts $1 $2 | sed 's/^/after  /'
done
