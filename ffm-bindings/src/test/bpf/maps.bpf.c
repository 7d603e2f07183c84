// A hash map for exercising lookups, deletes and key iteration from Java. The program only makes libbpf
// create the map: maps nobody references are still created, but a program keeps the object realistic.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} hash SEC(".maps");

SEC("xdp")
int touch_hash(struct xdp_md *ctx)
{
	__u32 key = 0;

	bpf_map_lookup_elem(&hash, &key);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
