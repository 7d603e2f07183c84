// Counts every packet that reaches the interface, then lets it through.
// Two counters with the same meaning: a shared array (atomic add) and a per-CPU array (plain add),
// so the Java side can exercise both lookup() and lookupPerCpu().
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} packets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} packets_percpu SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *shared = bpf_map_lookup_elem(&packets, &key);
	__u64 *mine = bpf_map_lookup_elem(&packets_percpu, &key);

	if (shared)
		__sync_fetch_and_add(shared, 1);
	if (mine)
		*mine += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
