# A stand-in for nixpkgs' `lib`, with only what cc-ci's NixOS modules call, so that their option
# declarations, and the values their config gives the services, can be evaluated where nixpkgs
# cannot be fetched (nix-instantiate --eval, no network). It keeps each function's meaning (mkIf
# keeps its condition, mkOption its attributes); the Go test resolves them. A module calling a
# lib function missing here fails the test with "attribute ... missing": add it here.
let
  option = attrs: attrs // { _type = "option"; };
  type = name: extra: { _type = "type"; inherit name; } // extra;
  nameValuePair = name: value: { inherit name value; };
  mapAttrsToList = f: as: map (n: f n as.${n}) (builtins.attrNames as);
  escapeShellArg = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] (toString s) + "'";
  splitString = sep: s: builtins.filter builtins.isString (builtins.split (escapeRegex sep) s);
  escapeRegex = s: builtins.replaceStrings [ "." ":" "," "/" ] [ "\\." ":" "," "/" ] s;
  types = {
    str = type "str" { };
    bool = type "bool" { };
    int = type "int" { };
    port = type "port" { };
    path = type "path" { };
    package = type "package" { };
    lines = type "lines" { };
    ints.positive = type "positiveInt" { };
    listOf = t: type "listOf" { elem = t; };
    attrsOf = t: type "attrsOf" { elem = t; };
    nullOr = t: type "nullOr" { elem = t; };
    enum = values: type "enum" { inherit values; };
  };
in
{
  inherit types nameValuePair mapAttrsToList escapeShellArg splitString;
  mkOption = option;
  mkEnableOption = name: option { type = types.bool; default = false; description = "Whether to enable ${name}."; };
  mkIf = condition: content: { _type = "if"; inherit condition content; };
  mkMerge = contents: { _type = "merge"; inherit contents; };
  mkDefault = content: { _type = "override"; priority = 1000; inherit content; };
  literalExpression = text: { _type = "literalExpression"; inherit text; };
  optional = c: x: if c then [ x ] else [ ];
  optionals = c: xs: if c then xs else [ ];
  optionalAttrs = c: as: if c then as else { };
  optionalString = c: s: if c then s else "";
  concatStringsSep = builtins.concatStringsSep;
  mapAttrs = builtins.mapAttrs;
  mapAttrs' = f: as: builtins.listToAttrs (mapAttrsToList f as);
  filterAttrs = pred: as: builtins.listToAttrs (builtins.filter (nv: pred nv.name nv.value) (mapAttrsToList nameValuePair as));
  attrNames = builtins.attrNames;
  attrValues = builtins.attrValues;
  all = builtins.all;
  elem = builtins.elem;
  last = xs: builtins.elemAt xs (builtins.length xs - 1);
  unique = builtins.foldl' (acc: x: if builtins.elem x acc then acc else acc ++ [ x ]) [ ];
  toInt = s: builtins.fromJSON s;
  toUpper = s: builtins.replaceStrings
    [ "a" "b" "c" "d" "e" "f" "g" "h" "i" "j" "k" "l" "m" "n" "o" "p" "q" "r" "s" "t" "u" "v" "w" "x" "y" "z" ]
    [ "A" "B" "C" "D" "E" "F" "G" "H" "I" "J" "K" "L" "M" "N" "O" "P" "Q" "R" "S" "T" "U" "V" "W" "X" "Y" "Z" ]
    s;
  hasInfix = infix: s: builtins.match ".*${escapeRegex infix}.*" s != null;
  escapeShellArgs = xs: builtins.concatStringsSep " " (map escapeShellArg xs);
}
