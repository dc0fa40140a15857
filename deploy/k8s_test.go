package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// k8sObjects are the manifests under k8s/, decoded strictly (an unknown
// or misspelt field is an error) into the Kubernetes API types.
type k8sObjects struct {
	deploy *appsv1.Deployment
	svc    *corev1.Service
	hpa    *autoscalingv2.HorizontalPodAutoscaler
	pdb    *policyv1.PodDisruptionBudget
	cm     *corev1.ConfigMap
	secret *corev1.Secret
}

func loadK8s(t *testing.T) k8sObjects {
	t.Helper()
	files, err := filepath.Glob("k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests under k8s/: %v", err)
	}
	var o k8sObjects
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "\n---") {
			t.Fatalf("%s: one object per file", f)
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(b, &head); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var obj any
		switch head.APIVersion + " " + head.Kind {
		case "apps/v1 Deployment":
			o.deploy = &appsv1.Deployment{}
			obj = o.deploy
		case "v1 Service":
			o.svc = &corev1.Service{}
			obj = o.svc
		case "autoscaling/v2 HorizontalPodAutoscaler":
			o.hpa = &autoscalingv2.HorizontalPodAutoscaler{}
			obj = o.hpa
		case "policy/v1 PodDisruptionBudget":
			o.pdb = &policyv1.PodDisruptionBudget{}
			obj = o.pdb
		case "v1 ConfigMap":
			o.cm = &corev1.ConfigMap{}
			obj = o.cm
		case "v1 Secret":
			o.secret = &corev1.Secret{}
			obj = o.secret
		default:
			t.Fatalf("%s: unexpected %s %s", f, head.APIVersion, head.Kind)
		}
		if err := yaml.UnmarshalStrict(b, obj); err != nil {
			t.Fatalf("%s does not decode strictly as %s: %v", f, head.Kind, err)
		}
	}
	for name, missing := range map[string]bool{"Deployment": o.deploy == nil, "Service": o.svc == nil,
		"HorizontalPodAutoscaler": o.hpa == nil, "PodDisruptionBudget": o.pdb == nil,
		"ConfigMap": o.cm == nil, "Secret": o.secret == nil} {
		if missing {
			t.Errorf("k8s/: no %s", name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return o
}

func selects(sel map[string]string, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestK8sManifests decodes every manifest strictly and checks that they
// fit together and fit llmedge: selectors, ports (the Dockerfile's
// EXPOSE), the config mount, the drain timing, and the probes (run
// against the binary, with the ConfigMap's config and the Secret's keys).
func TestK8sManifests(t *testing.T) {
	o := loadK8s(t)
	d := o.deploy
	pod := d.Spec.Template
	if d.Spec.Selector == nil || !selects(d.Spec.Selector.MatchLabels, pod.Labels) {
		t.Errorf("Deployment selector %v does not select its pods %v", d.Spec.Selector, pod.Labels)
	}
	if !selects(o.svc.Spec.Selector, pod.Labels) {
		t.Errorf("Service selector %v does not select the pods %v", o.svc.Spec.Selector, pod.Labels)
	}
	if o.pdb.Spec.Selector == nil || !selects(o.pdb.Spec.Selector.MatchLabels, pod.Labels) {
		t.Errorf("PodDisruptionBudget selector does not select the pods")
	}
	if r := o.hpa.Spec.ScaleTargetRef; r.Kind != "Deployment" || r.Name != d.Name || r.APIVersion != "apps/v1" {
		t.Errorf("HPA targets %+v, not Deployment %s", r, d.Name)
	}
	minR := int32(1)
	if o.hpa.Spec.MinReplicas != nil {
		minR = *o.hpa.Spec.MinReplicas
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != minR {
		t.Errorf("Deployment replicas %v != HPA minReplicas %d", d.Spec.Replicas, minR)
	}
	if mu := o.pdb.Spec.MaxUnavailable; mu == nil || mu.IntValue() < 1 || int32(mu.IntValue()) >= minR {
		t.Errorf("PDB maxUnavailable %v: want at least 1 and fewer than the %d replicas", mu, minR)
	}

	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	f := parseServeArgs(t, c.Args)
	exposed := dockerfilePort(t)
	if f.port != exposed {
		t.Errorf("--port %d, Dockerfile EXPOSE %d", f.port, exposed)
	}
	var portName string
	for _, p := range c.Ports {
		if p.ContainerPort == int32(f.port) {
			portName = p.Name
		} else {
			t.Errorf("containerPort %d is not llmedge's --port %d", p.ContainerPort, f.port)
		}
	}
	if portName == "" {
		t.Errorf("no named containerPort %d", f.port)
	}
	for _, sp := range o.svc.Spec.Ports {
		if sp.TargetPort.String() != portName && sp.TargetPort.IntValue() != f.port {
			t.Errorf("Service targetPort %s is not the container's port", sp.TargetPort.String())
		}
	}

	// The config comes from the ConfigMap, mounted as the directory
	// --config names.
	var cmVolume string
	for _, v := range pod.Spec.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == o.cm.Name {
			cmVolume = v.Name
		}
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		if m.Name == cmVolume && m.SubPath == "" && filepath.Join(m.MountPath, "config.yaml") == f.config {
			mounted = true
		}
	}
	if cmVolume == "" || !mounted {
		t.Errorf("--config %s is not the ConfigMap %s mounted as a directory (no subPath: edits must reach the pods)", f.config, o.cm.Name)
	}
	cfgText, ok := o.cm.Data["config.yaml"]
	if !ok {
		t.Fatal("ConfigMap has no config.yaml")
	}
	shared, err := os.ReadFile("config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfgText != string(shared) {
		t.Error("the ConfigMap's config.yaml differs from deploy/config.yaml")
	}

	// The environment: the Secret's keys plus the container's env.
	env := map[string]string{}
	secretUsed := false
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil && ef.SecretRef.Name == o.secret.Name {
			secretUsed = true
		}
	}
	if !secretUsed {
		t.Errorf("the container does not read Secret %s", o.secret.Name)
	}
	for k, v := range o.secret.StringData {
		env[k] = v
	}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	cfg := loadConfig(t, cfgText, env)
	if cfg.General.MasterKey == "" {
		t.Error("the config runs without a master key")
	}

	// Drain timing: preStop sleep, then --grace for streams, within
	// terminationGracePeriodSeconds.
	ps := c.Lifecycle
	if ps == nil || ps.PreStop == nil || ps.PreStop.Sleep == nil {
		t.Fatal("no preStop sleep: pods would get SIGTERM while the Service still sends them requests")
	}
	sleep := time.Duration(ps.PreStop.Sleep.Seconds) * time.Second
	if pod.Spec.TerminationGracePeriodSeconds == nil {
		t.Fatal("no terminationGracePeriodSeconds")
	}
	tgp := time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	if tgp < sleep+f.grace+time.Second || tgp > sleep+f.grace+15*time.Second {
		t.Errorf("terminationGracePeriodSeconds %v: want preStop %v + --grace %v + a few seconds to exit", tgp, sleep, f.grace)
	}

	// Probes: HTTP on the container's port, paths served by llmedge.
	var probes []string
	for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("no HTTP %s probe", name)
			continue
		}
		if pp := p.HTTPGet.Port; pp.String() != portName && pp.IntValue() != f.port {
			t.Errorf("%s probe port %s is not llmedge's", name, pp.String())
		}
		probes = append(probes, p.HTTPGet.Path)
	}
	if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path != "/health/readiness" {
		t.Errorf("readiness probe on %s, want /health/readiness", c.ReadinessProbe.HTTPGet.Path)
	}
	if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil && c.LivenessProbe.HTTPGet.Path != "/health/liveliness" {
		t.Errorf("liveness probe on %s, want /health/liveliness", c.LivenessProbe.HTTPGet.Path)
	}
	// REDIS_URL names a host that does not resolve here: the replica
	// must stay ready without Redis (limits fall back per replica), or a
	// Redis outage would take every replica out of the Service.
	runServe(t, c.Args, cfgText, env, probes)
}
