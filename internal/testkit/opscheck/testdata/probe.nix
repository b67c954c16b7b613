# Evaluates cc-ci's NixOS modules without nixpkgs (stub-lib.nix) and reports, as JSON, what the Go
# test (nix_test.go) checks:
#   defaults     services.cc-ci's defaults (paths, names, and the env they become);
#   sentinel     the env for a config whose shared options are all set to sentinel values;
#   consumers    what each consumer gives its service under that sentinel config: a consumer
#                that reads the shared option shows the sentinel, one with its own copy shows
#                the default;
#   undocumented every option (of every module) without a description.
#
#   nix-instantiate --eval --strict --json probe.nix --argstr repo /path/to/cc-ci
{ repo }:

let
  root = /. + repo;
  lib = import ./stub-lib.nix;
  modules = root + "/nix/modules";
  # Only what an option default reads (packages); everything else a module takes from pkgs is
  # never forced by the values probed.
  pkgs = {
    drone-oss = "/stub/drone-oss";
    drone-runner-docker = "/stub/drone-runner-docker";
    util-linux = "/stub/util-linux";
    writeText = name: _: "/stub/${name}";
  };

  isOption = v: builtins.isAttrs v && (v._type or "") == "option";
  isType = v: builtins.isAttrs v && (v._type or "") == "type";

  # resolve strips mkIf (a false condition gives null), mkDefault and mkMerge (shallow).
  resolve = v:
    if builtins.isAttrs v && v ? _type then
      if v._type == "if" then (if v.condition then resolve v.content else null)
      else if v._type == "override" then resolve v.content
      else if v._type == "merge" then builtins.foldl' (a: b: a // b) { } (map resolve v.contents)
      else v
    else v;
  get = path: v: builtins.foldl' (acc: k: if acc == null then null else resolve (acc.${k} or null)) (resolve v) path;

  # An option tree's defaults: the default, or a stub for a required package, or null.
  defaultsOf = opts: builtins.mapAttrs
    (_: o:
      if isOption o then
        (if o ? default then o.default
        else if isType (o.type or null) && o.type.name == "package" then "/stub/package"
        else null)
      else defaultsOf o)
    opts;

  # Every option path (dotted) whose declaration has no description.
  undocumented = prefix: opts: builtins.concatLists (map
    (n:
      let o = opts.${n}; p = if prefix == "" then n else "${prefix}.${n}"; in
      if isOption o then (if (o.description or "") == "" then [ p ] else [ ])
      else if builtins.isAttrs o then undocumented p o
      else [ ])
    (builtins.attrNames opts));

  call = file: config: import file { inherit config lib pkgs; ccciPkgs = { }; };
  optionsOf = file: (call file { }).options or { };

  files = builtins.filter (f: builtins.match ".*\\.nix" f != null && f != "default.nix")
    (builtins.attrNames (builtins.readDir modules));

  commonOpts = config: (call (modules + "/common.nix") config).options.services.cc-ci;

  # A config whose services.cc-ci is the option defaults, with `over` on top, and where every
  # consumer is enabled with stub values for its required settings.
  configWith = over:
    let
      c = {
        services = {
          cc-ci = defaultsOf (commonOpts c) // { enable = true; } // over // {
            paths = (defaultsOf (commonOpts c)).paths // (over.paths or { });
            env = (commonOpts c).env.default;
            drone = defaultsOf (call (modules + "/drone-server.nix") c).options.services.cc-ci.drone // {
              host = "drone.stub"; adminUser = "stub";
            };
            runner = defaultsOf (call (modules + "/drone-runner.nix") c).options.services.cc-ci.runner // {
              enable = true; name = "stub";
            };
            bridge = defaultsOf (call (modules + "/bridge.nix") c).options.services.cc-ci.bridge // {
              enable = true; enrolmentFile = "/stub/enrolment.yml"; droneUrl = "https://drone.stub";
            };
            abra = { enable = true; package = "/stub/abra"; };
            proxy = defaultsOf (call (modules + "/proxy.nix") c).options.services.cc-ci.proxy // {
              enable = true; certificateFile = "/stub/cert"; keyFile = "/stub/key";
            };
            swarm = defaultsOf (call (modules + "/swarm.nix") c).options.services.cc-ci.swarm;
          };
          cc-ci-janitor = defaultsOf (call (modules + "/janitor.nix") c).options.services.cc-ci-janitor // { enable = true; };
          cc-ci-dashboard = defaultsOf (call (modules + "/dashboard.nix") c).options.services.cc-ci-dashboard // {
            enable = true; droneUrl = "https://drone.stub";
          } // { runsDir = get [ "services" "cc-ci-dashboard" "runsDir" ] (call (root + "/nix/hosts/cc-ci/default.nix") c); };
        };
        networking.hostName = "stub";
        virtualisation.docker.package = "/stub/docker";
      };
    in
    c;

  sentinelOver = {
    domainSuffix = "sentinel.invalid";
    server = "sentinel-server";
    deadline = "77m";
    frontdoorUrl = "https://sentinel.invalid:4443";
    paths = { lockDir = "/sentinel/lock"; runsDir = "/sentinel/runs"; abraDir = "/sentinel/abra"; };
  };
  defaults = configWith { };
  sentinel = configWith sentinelOver;
  cfgOf = file: (call (modules + file) sentinel).config;
  env = file: unit: get [ "systemd" "services" unit "environment" ] (cfgOf file);
in
{
  defaults = builtins.removeAttrs defaults.services.cc-ci [ "drone" "runner" "bridge" "abra" "proxy" "swarm" ];
  sentinel = { inherit (sentinel.services.cc-ci) env paths; };
  consumers = {
    janitor = env "/janitor.nix" "cc-ci-janitor";
    janitorWritable = get [ "systemd" "services" "cc-ci-janitor" "serviceConfig" "ReadWritePaths" ] (cfgOf "/janitor.nix");
    bridge = env "/bridge.nix" "cc-ci-bridge";
    runnerEnviron = (env "/drone-runner.nix" "drone-runner-docker").DRONE_RUNNER_ENVIRON;
    abraDir = get [ "environment" "variables" "ABRA_DIR" ] (cfgOf "/abra.nix");
    proxyAbraDir = (env "/proxy.nix" "cc-ci-proxy").ABRA_DIR;
    proxyDomain = sentinel.services.cc-ci.proxy.domain;
    tmpfiles = get [ "systemd" "tmpfiles" "rules" ] (cfgOf "/common.nix");
    # The dashboard module is not ours to change: the host wires the shared runs dir into it.
    dashboardHostRunsDir = sentinel.services.cc-ci-dashboard.runsDir;
    dashboard = env "/dashboard.nix" "cc-ci-dashboard";
  };
  undocumented = builtins.concatLists (map (f: map (p: "${f}: ${p}") (undocumented "" (optionsOf (modules + "/${f}")))) files);
  moduleFiles = files;
}
