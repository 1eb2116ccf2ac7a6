package dev.affinity.strategy;

import dev.affinity.backend.Member;
import dev.affinity.backend.Membership;
import java.util.ArrayList;
import java.util.List;

/** Failover candidate orders shared by strategies. */
final class Candidates {
  private Candidates() {}

  /** UP members with room, except {@code exclude}, least loaded per unit of weight first. */
  static List<Member> leastLoaded(Membership membership, Member exclude, int limit) {
    List<Member> out = new ArrayList<>();
    for (Member m : membership.upMembers()) {
      if (!m.id().equals(exclude.id()) && m.hasCapacity()) {
        out.add(m);
      }
    }
    out.sort(Candidates::compareLoad);
    return out.size() > limit ? out.subList(0, limit) : out;
  }

  /** Orders by live connections per unit of weight, then id. */
  static int compareLoad(Member a, Member b) {
    double la = a.fleetConnections() * b.effectiveWeight();
    double lb = b.fleetConnections() * a.effectiveWeight();
    int c = Double.compare(la, lb);
    return c != 0 ? c : a.id().compareTo(b.id());
  }
}
