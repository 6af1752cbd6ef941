#!/usr/bin/env python3
# Lists built-in rules by the size of their logic (when, for_each, message,
# messageExpression, severityExpression, at, related), largest first: `python3 scripts/rule-sizes.py [N]`.
# crates/meshlint-rules/tests/catalogue.rs enforces the bounds.
import yaml,glob,sys,statistics
KEYS=['when','for_each','message','messageExpression','severityExpression','at']
rows=[]
for f in sorted(glob.glob('rules/*.yaml')):
    d=yaml.safe_load(open(f))
    n=0
    for k in KEYS:
        v=d.get(k)
        if isinstance(v,str): n+=len(v)
    rel=d.get('related') or []
    for r in rel:
        for k,v in r.items():
            if isinstance(v,str): n+=len(v)
    rows.append((n,d['id']))
rows.sort()
s=[n for n,_ in rows]
print('rules',len(s),'median',statistics.median(s),'over1200',sum(1 for x in s if x>1200),'over400',sum(1 for x in s if x>400))
for n,i in rows[::-1][:int(sys.argv[1]) if len(sys.argv)>1 else 20]: print(n,i)
