package io.dynoplane.ffm;

/**
 * What the kernel says about a map ({@code struct bpf_map_info}, by {@link BpfSyscall#mapInfo(int)}).
 *
 * @param type       {@code enum bpf_map_type}
 * @param id         the map's id, system-wide: two fds with the same id are the same map
 * @param name       the name given at creation, cut to 15 bytes
 * @param keySize    bytes per key
 * @param valueSize  bytes per value (per CPU, for per-CPU maps)
 * @param maxEntries capacity
 * @param mapFlags   BPF_F_* creation flags
 */
public record BpfMapInfo(int type, int id, String name, int keySize, int valueSize, int maxEntries, int mapFlags) {}
