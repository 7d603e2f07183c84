/* Maps of the guard, shared by dyno_from and dyno_to (one object per plane). */
#ifndef DYNOPLANE_MAPS_H
#define DYNOPLANE_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "dynoplane.h"

#define MAX_DYNOS 65536

/* Dyno address (__be32) -> what the guard knows of it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_DYNOS);
	__type(key, __be32);
	__type(value, struct dyno_info);
} dynos SEC(".maps");

/* Host-side veth ifindex -> the address of the dyno it guards. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_DYNOS);
	__type(key, __u32);
	__type(value, __be32);
} dyno_by_ifindex SEC(".maps");

/* Conntrack: flows the rules let start, so that their replies pass. Entries expire in the datapath
 * (flow_value); LRU eviction only bounds the table. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} flows SEC(".maps");

/* enum flow_timeout -> idle timeout in ns; 0 (the initial value) = the FLOW_TIMEOUT_*_S default. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOW_T_MAX);
	__type(key, __u32);
	__type(value, __u64);
} flow_timeouts SEC(".maps");

/* Destinations outside the dyno range dynos may reach; empty = no egress. Value unused. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cidr_key);
	__type(value, __u8);
} egress_cidrs SEC(".maps");

/* Router listeners dynos may reach on a host address (hairpin): struct listener_key -> unused u8. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct listener_key);
	__type(value, __u8);
} router_listeners SEC(".maps");

/* (dyno id, reason) -> packets, per CPU (Java sums). Not preallocated: most (dyno, reason) pairs never
 * happen, and preallocating a million per-CPU slots makes every load slow. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAX_DYNOS * VERDICT_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct verdict_key);
	__type(value, __u64);
} verdicts SEC(".maps");

#endif
