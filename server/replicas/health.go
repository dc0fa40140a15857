package replicas

import (
	"context"
	"strconv"
	"strings"

	"github.com/llmedge/llmedge/upstream"
	"github.com/redis/go-redis/v9"
)

// Deployment health on Redis (upstream.SharedHealth). Two hashes per
// namespace:
//   - {llmedge}:dh:<ns>:<minute>  "<id>|c", "<id>|t", "<id>|f<class>":
//     calls, tokens and failures of the minute over every replica
//     (HINCRBY; expires after 2 minutes);
//   - {llmedge}:de:<ns>           "<id>|cu", "<id>|nb": the latest
//     cooldown end and upstream Retry-After end, unix ms (raised only).
//
// One exchange is one EVALSHA: it adds this replica's deltas, raises the
// ends, and returns both hashes whole.

var exchangeScript = redis.NewScript(`
local per = 3 + ` + strconv.Itoa(upstream.FailClasses) + ` + 2
for i = 1, #ARGV, per do
  local id = ARGV[i]
  for j = 1, per - 3 do
    local d = tonumber(ARGV[i + j])
    if d ~= 0 then
      local f = (j == 1 and 'c') or (j == 2 and 't') or ('f' .. (j - 3))
      redis.call('HINCRBY', KEYS[1], id .. '|' .. f, d)
    end
  end
  for j = per - 2, per - 1 do
    local v = tonumber(ARGV[i + j])
    if v > 0 then
      local f = id .. (j == per - 2 and '|cu' or '|nb')
      if v > tonumber(redis.call('HGET', KEYS[2], f) or '0') then
        redis.call('HSET', KEYS[2], f, ARGV[i + j])
      end
    end
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], 120) end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], 3600) end
return {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
`)

// health is the Redis side of upstream.SharedHealth.
type health struct {
	rdb redis.UniversalClient
	ns  string
}

func (h *health) Exchange(ctx context.Context, minute int64, ids []string, deltas []upstream.HealthCounts) ([]upstream.HealthCounts, error) {
	args := make([]any, 0, len(ids)*(5+upstream.FailClasses))
	for i, id := range ids {
		d := &deltas[i]
		args = append(args, id, d.Calls, d.Tokens)
		for _, f := range d.Fails {
			args = append(args, f)
		}
		args = append(args, d.CoolUntil, d.NotBefore)
	}
	keys := []string{"{llmedge}:dh:" + h.ns + ":" + strconv.FormatInt(minute, 10), "{llmedge}:de:" + h.ns}
	res, err := exchangeScript.Run(ctx, h.rdb, keys, args...).Slice()
	if err != nil {
		return nil, err
	}
	idx := make(map[string]int, len(ids))
	for i, id := range ids {
		idx[id] = i
	}
	out := make([]upstream.HealthCounts, len(ids))
	for part, r := range res {
		flat, _ := r.([]any)
		for j := 0; j+1 < len(flat); j += 2 {
			field, _ := flat[j].(string)
			val, _ := flat[j+1].(string)
			cut := strings.LastIndexByte(field, '|')
			if cut < 0 {
				continue
			}
			i, ok := idx[field[:cut]]
			if !ok {
				continue
			}
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				continue
			}
			o := &out[i]
			switch f := field[cut+1:]; {
			case part == 1 && f == "cu":
				o.CoolUntil = n
			case part == 1 && f == "nb":
				o.NotBefore = n
			case part == 0 && f == "c":
				o.Calls = n
			case part == 0 && f == "t":
				o.Tokens = n
			case part == 0 && len(f) > 1 && f[0] == 'f':
				if c, err := strconv.Atoi(f[1:]); err == nil && c >= 0 && c < upstream.FailClasses {
					o.Fails[c] = n
				}
			}
		}
	}
	return out, nil
}
