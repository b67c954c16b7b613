package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// service is what the router needs of one swarm service: its name and its labels.
type service struct {
	Name   string
	Labels map[string]string
}

// route is where one Host goes.
type route struct {
	Service string // swarm service name, e.g. samp-1a2b3c_ci_local_app
	Port    string
}

// target is the upstream address: `tasks.<service>` resolves to the task IPs on the overlay,
// which works here where service VIPs do not (no IPVS in this kernel).
func (r route) target() string { return "tasks." + r.Service + ":" + r.Port }

// table maps a lower-case host name to its route.
type table map[string]route

var (
	routerRule  = regexp.MustCompile(`^traefik\.http\.routers\.([^.]+)\.rule$`)
	serviceLB   = regexp.MustCompile(`^traefik\.http\.services\.([^.]+)\.loadbalancer\.server\.port$`)
	hostMatcher = regexp.MustCompile(`^Host\(([^()]*)\)$`)
	quotedHost  = regexp.MustCompile("^[`\"]([^`\"()&|\\s]+)[`\"]$")
)

// buildTable reads traefik labels the way traefik's docker/swarm provider does, for the subset
// recipes use: traefik.enable=true, routers' Host rules, and the load balancer port. Services are
// visited by name so that a host claimed twice always goes to the same one; every label that is
// skipped is reported in problems.
func buildTable(services []service) (table, []string) {
	sorted := append([]service(nil), services...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	t := table{}
	var problems []string
	for _, svc := range sorted {
		if svc.Labels["traefik.enable"] != "true" {
			continue
		}
		routes, errs := serviceRoutes(svc)
		problems = append(problems, errs...)
		for _, hr := range routes {
			if prev, dup := t[hr.host]; dup {
				problems = append(problems, fmt.Sprintf("host %s claimed by %s and %s: keeping %s",
					hr.host, prev.Service, svc.Name, prev.Service))
				continue
			}
			t[hr.host] = hr.route
		}
	}
	return t, problems
}

type hostRoute struct {
	host  string
	route route
}

// serviceRoutes returns every host route one traefik-enabled service declares.
func serviceRoutes(svc service) ([]hostRoute, []string) {
	ports := map[string]string{}
	for k, v := range svc.Labels {
		if m := serviceLB.FindStringSubmatch(k); m != nil {
			ports[m[1]] = strings.TrimSpace(v)
		}
	}
	var out []hostRoute
	var problems []string
	routers := make([]string, 0)
	for k := range svc.Labels {
		if m := routerRule.FindStringSubmatch(k); m != nil {
			routers = append(routers, m[1])
		}
	}
	sort.Strings(routers)
	for _, r := range routers {
		hosts, err := parseHostRule(svc.Labels["traefik.http.routers."+r+".rule"])
		if err != nil {
			problems = append(problems, fmt.Sprintf("service %s router %s: %v", svc.Name, r, err))
			continue
		}
		port, err := routerPort(svc.Labels["traefik.http.routers."+r+".service"], r, ports)
		if err != nil {
			problems = append(problems, fmt.Sprintf("service %s router %s: %v", svc.Name, r, err))
			continue
		}
		for _, h := range hosts {
			out = append(out, hostRoute{host: h, route: route{Service: svc.Name, Port: port}})
		}
	}
	return out, problems
}

// routerPort picks the router's load balancer port: the one of its explicit service, else the
// one named like the router, else the only one there is (traefik's own defaulting).
func routerPort(explicit, router string, ports map[string]string) (string, error) {
	if explicit != "" {
		if p, ok := ports[explicit]; ok {
			return p, nil
		}
		return "", fmt.Errorf("service %q has no loadbalancer.server.port label", explicit)
	}
	if p, ok := ports[router]; ok {
		return p, nil
	}
	if len(ports) == 1 {
		for _, p := range ports {
			return p, nil
		}
	}
	return "", fmt.Errorf("no unique traefik.http.services.<s>.loadbalancer.server.port label (%d found)", len(ports))
}

// parseHostRule parses `Host(`a`)`, `Host(`a`,`b`)` and `||` of those into lower-case hosts. Any
// other matcher is refused rather than half-understood.
func parseHostRule(rule string) ([]string, error) {
	var hosts []string
	for _, part := range strings.Split(rule, "||") {
		m := hostMatcher.FindStringSubmatch(strings.TrimSpace(part))
		if m == nil {
			return nil, fmt.Errorf("unsupported rule %q: only Host(...) joined by || is understood", rule)
		}
		for _, arg := range strings.Split(m[1], ",") {
			q := quotedHost.FindStringSubmatch(strings.TrimSpace(arg))
			if q == nil {
				return nil, fmt.Errorf("rule %q: %q is not a quoted host name", rule, strings.TrimSpace(arg))
			}
			hosts = append(hosts, strings.ToLower(q[1]))
		}
	}
	return hosts, nil
}
