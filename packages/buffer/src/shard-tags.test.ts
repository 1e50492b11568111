import { redisClusterTest } from "@mollifier/testing";
import { describe, expect, test } from "vitest";
import { crc16, evenSlotRanges, keySlot, SLOT_COUNT } from "./crc16.js";
import { BufferKeys } from "./keys.js";
import { shardTags, shardTargetSlots } from "./shard-tags.js";

/** The most shards any master holds, masters owning an even split as `redis-cli --cluster create` makes. */
function hottestMaster(tags: readonly string[], masters: number): { hottest: number; coldest: number } {
  const counts = evenSlotRanges(masters).map(
    (range) =>
      tags.filter((tag) => {
        const slot = keySlot(tag);
        return slot >= range.first && slot <= range.last;
      }).length,
  );
  return { hottest: Math.max(...counts), coldest: Math.min(...counts) };
}

describe("slot-balanced shard tags", () => {
  test("on 3, 6, 12 and 16 masters with even slot ranges, no master holds more than ceil(shards / masters) shards", () => {
    for (const prefix of ["mollifier", "buffer", "a", "prod-eu.1"]) {
      for (const shards of [16, 64]) {
        const keys = new BufferKeys({ prefix, shardCount: shards });
        const tags = keys.shards().map((shard) => keys.shard(shard).tag);
        for (const masters of [3, 6, 12, 16]) {
          const { hottest, coldest } = hottestMaster(tags, masters);
          expect(hottest, `${prefix}, ${shards} shards, ${masters} masters`).toBeLessThanOrEqual(
            Math.ceil(shards / masters),
          );
          expect(coldest).toBeGreaterThanOrEqual(Math.floor(shards / masters));
        }
      }
    }
  });

  test("shard i sits on the centre slot of range i, whatever the prefix and shard count", () => {
    for (const [prefix, shards] of [
      ["mollifier", 1],
      ["mollifier", 16],
      ["x", 37],
      ["a-b.c_d", 256],
    ] as const) {
      const ranges = evenSlotRanges(shards);
      expect(shardTags(prefix, shards).map(keySlot)).toEqual(
        ranges.map((range) => Math.floor((range.first + range.last) / 2)),
      );
    }
  });

  test("each tag is {<prefix>:<shard>:<k>} with the smallest k that reaches its slot (the documented rule, by brute force)", () => {
    for (const [prefix, shards] of [
      ["mollifier", 16],
      ["q", 5],
    ] as const) {
      const expected = shardTargetSlots(shards).map((slot, shard) => {
        for (let k = 0; ; k++) {
          if (crc16(`${prefix}:${shard}:${k}`) % SLOT_COUNT === slot) return `{${prefix}:${shard}:${k}}`;
        }
      });
      expect(shardTags(prefix, shards)).toEqual(expected);
    }
  });

  test("the default layout's tags are stable (changing them moves every key: a new layout version)", () => {
    const keys = new BufferKeys();
    expect(keys.shards().map((shard) => keys.shard(shard).tag)).toEqual([
      "{mollifier:0:15796}",
      "{mollifier:1:5564}",
      "{mollifier:2:42470}",
      "{mollifier:3:22964}",
      "{mollifier:4:1331}",
      "{mollifier:5:13298}",
      "{mollifier:6:67835}",
      "{mollifier:7:6797}",
      "{mollifier:8:106}",
      "{mollifier:9:21267}",
      "{mollifier:10:49575}",
      "{mollifier:11:8651}",
      "{mollifier:12:41821}",
      "{mollifier:13:7092}",
      "{mollifier:14:3993}",
      "{mollifier:15:150}",
    ]);
  });
});

redisClusterTest(
  "on a real 3-master cluster, Redis places the 16 default shards 6/5/5 and agrees with every tag's slot",
  async ({ redis }) => {
    const keys = new BufferKeys();
    const slots = await Promise.all(
      keys.shards().map((shard) => redis.cluster("KEYSLOT", keys.shard(shard).tag)),
    );
    expect(slots).toEqual(keys.shards().map((shard) => keySlot(keys.shard(shard).tag)));
    const masters = (await redis.cluster("SLOTS")).map(([first, last, master]) => ({
      first,
      last,
      master: `${master?.[0]}:${master?.[1]}`,
    }));
    const perMaster = new Map<string, number>();
    for (const slot of slots) {
      const owner = masters.find((range) => slot >= range.first && slot <= range.last);
      if (owner) perMaster.set(owner.master, (perMaster.get(owner.master) ?? 0) + 1);
    }
    expect([...perMaster.values()].sort()).toEqual([5, 5, 6]);
  },
);
