#include "mesh/mdns_truncated_queries.h"

#include <algorithm>

namespace meshslice {

bool MdnsTruncatedQueries::absorb(const DnsMessage& query, const MdnsEndpoint& from, Micros now, Micros wait) {
  Key key{from.address, from.port};
  auto it = held_.find(key);
  if (it == held_.end()) {
    if (!query.truncated() || held_.size() >= kMaxHeld) return false;
    it = held_.emplace(key, Held{now + wait, DnsMessage{}}).first;
    it->second.query.id = query.id;
  }
  DnsMessage& merged = it->second.query;
  for (const auto& q : query.questions) {
    if (merged.questions.size() >= kMaxQuestions) break;
    merged.questions.push_back(q);
  }
  for (const auto& k : query.answers) {
    if (merged.answers.size() >= kMaxKnownAnswers) break;
    merged.answers.push_back(k);
  }
  return true;
}

std::vector<MdnsTruncatedQueries::Due> MdnsTruncatedQueries::takeDue(Micros now) {
  std::vector<std::pair<Micros, Due>> due;
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->second.due > now) {
      ++it;
      continue;
    }
    due.emplace_back(it->second.due, Due{MdnsEndpoint{it->first.first, it->first.second}, std::move(it->second.query)});
    it = held_.erase(it);
  }
  std::stable_sort(due.begin(), due.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Due> out;
  for (auto& [t, d] : due) out.push_back(std::move(d));
  return out;
}

std::optional<Micros> MdnsTruncatedQueries::nextDeadline() const {
  std::optional<Micros> t;
  for (const auto& [key, h] : held_)
    if (!t || h.due < *t) t = h.due;
  return t;
}

}  // namespace meshslice
